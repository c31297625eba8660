/**
 * `npm run perf -- <name> [args]`: runs bench/<name>.ts. Benchmarks report throughput as ratios
 * against a baseline measured in the same process, because this machine is shared and noisy.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || !available.includes(name)) {
  console.log(`usage: npm run perf -- <${available.join('|')}> [options]`);
  if (name && name !== '--help' && name !== '-h') {
    console.error(`unknown benchmark "${name}"`);
    process.exit(2);
  }
  process.exit(0);
}
try {
  const mod = await import(`./${name}.ts`);
  await mod.main(rest);
} catch (err) {
  console.error(`bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
}
