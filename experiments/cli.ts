/**
 * The `pbrl` command line. Each subcommand lives in experiments/commands/<name>.ts and exports
 * `register(program)`, so adding one touches only its own file.
 */
import { Command } from 'commander';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8'));

// `pbrl ... | head`: a reader that closes the pipe early is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command();
program
  .name('pbrl')
  .description('Preference-based RL on Meta-World-like manipulation tasks (Rapier physics, TensorFlow.js)')
  .version(pkg.version)
  .showHelpAfterError();

// Every file in commands/ is a subcommand; adding one needs no edit here.
const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
const commandFiles = readdirSync(commandsDir).filter((f) => f.endsWith('.ts')).sort();
for (const file of commandFiles) {
  const mod = await import(pathToFileURL(join(commandsDir, file)).href);
  if (typeof mod.register !== 'function') throw new Error(`experiments/commands/${file} does not export register(program)`);
  mod.register(program);
}

await program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`pbrl: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.PBRL_DEBUG) console.error(err);
  process.exit(1);
});
