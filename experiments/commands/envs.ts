/** `pbrl envs`: the registered tasks, one line each. */
import type { Command } from 'commander';
import { TASKS } from '../../envs/registry.js';

export function register(program: Command): void {
  program
    .command('envs')
    .description('list the manipulation tasks (Meta-World-like, Rapier physics): MT10 membership, whether the hidden goal can be inferred, a one-line description')
    .option('--json', 'print a JSON array instead of text')
    .action((opts: { json?: boolean }) => {
      const rows = [...TASKS.values()].map((t) => ({ name: t.name, mt10: t.mt10, goalInferable: t.goalInferable, description: t.description }));
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      const w = Math.max(...rows.map((r) => r.name.length));
      // The goal is hidden by default (Meta-World's raw tasks, B-Pref); where nothing observed reveals
      // it, a policy can only find it through the reward: flag those so a user picks visibility on purpose.
      for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.mt10 ? 'MT10' : '    '}  ${r.goalInferable ? '          ' : 'goal-blind'}  ${r.description}`);
      console.log('\ngoal-blind: the goal is drawn at random and not inferable from the observation when hidden (the default); --goal-observable shows it');
    });
}
