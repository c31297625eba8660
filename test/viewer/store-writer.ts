// Child process for the kill test in label-store.test.ts: answers every query of a pool as fast as
// it can and reports each answer to the parent only after store.answer() has returned (committed).
import { LabelStore } from '../../viewer/label-store.js';

const [dbPath, pool, teacher] = process.argv.slice(2);
const store = new LabelStore(dbPath);
let n = 0;
for (const q of store.queries(pool)) {
  store.answer({ query: q.id, teacher, answer: { kind: 'pair', choice: n % 2 ? 'a' : 'b' }, durationMs: n });
  n++;
  process.send!({ acked: n });
}
process.send!({ finished: n });
// Stay alive until the parent kills us.
setInterval(() => {}, 1000);
