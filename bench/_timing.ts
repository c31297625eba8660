/** Shared timing helpers for benchmarks: warm up, then time until a budget or an iteration count. */
export function timeIt(fn: () => void, opts: { warmup?: number; minIters?: number; budgetMs?: number } = {}): number {
  const { warmup = 3, minIters = 5, budgetMs = 1500 } = opts;
  for (let i = 0; i < warmup; i++) fn();
  let iters = 0;
  const t0 = performance.now();
  while (iters < minIters || performance.now() - t0 < budgetMs) {
    fn();
    iters++;
    if (iters > 100000) break;
  }
  return (performance.now() - t0) / iters;
}

export function fmt(x: number, digits = 2): string {
  return x.toFixed(digits);
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((v, c) => String(v).padEnd(widths[c])).join('  ')).join('\n');
}
