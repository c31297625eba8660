/** `pbrl envs`: the registered tasks, one line each. */
import type { Command } from 'commander';
import { TASKS } from '../../envs/registry.js';

export function register(program: Command): void {
  program
    .command('envs')
    .description('list the manipulation tasks (Meta-World-like, Rapier physics) with a one-line description')
    .option('--json', 'print a JSON array instead of text')
    .action((opts: { json?: boolean }) => {
      const rows = [...TASKS.values()].map((t) => ({ name: t.name, mt10: t.mt10, description: t.description }));
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      const w = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.mt10 ? 'MT10' : '    '}  ${r.description}`);
    });
}
