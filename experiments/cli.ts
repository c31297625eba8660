/**
 * The `pbrl` command line. Each subcommand lives in experiments/commands/<name>.ts and exports
 * `register(program)`, so adding one touches only its own file and the list below.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8'));

const program = new Command();
program
  .name('pbrl')
  .description('Preference-based RL on Meta-World-like manipulation tasks (Rapier physics, TensorFlow.js)')
  .version(pkg.version)
  .showHelpAfterError();

const commands: string[] = ['doctor', 'demo', 'envs', 'rollout'];
for (const name of commands) {
  const mod = await import(`./commands/${name}.ts`).catch((err: unknown) => {
    // A missing command module should not take the whole CLI down; say what broke.
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(`commands/${name}.ts`)) return null;
    throw err;
  });
  if (mod) mod.register(program);
}

await program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`pbrl: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.PBRL_DEBUG) console.error(err);
  process.exit(1);
});
