// A `pbrl` command run by a bench executor (experiments/bench/cell.ts): `bin/pbrl.js` plus one rule —
// when the executor or worker that started it dies (even by SIGKILL), this process ends at once.
// Otherwise a killed queue worker would leave its training running while another worker takes the
// job over and writes the same cell directory. The watch runs in a worker thread because training
// keeps the main thread busy for long stretches without returning to the event loop.
import { Worker } from 'node:worker_threads';

const watch = new Worker(
  `const parent = process.ppid;
   setInterval(() => { if (process.ppid !== parent) process.kill(${process.pid}, 'SIGKILL'); }, 250);`,
  { eval: true },
);
watch.unref();
await import('../../bin/pbrl.js');
// The command has finished (cli.ts awaits it).
process.exit(process.exitCode ?? 0);
