// The viewer's subcommands (label, clips, view) as `pbrl` runs them, for the CLI tests: same commander
// setup and error reporting as experiments/cli.ts, without loading every other command (so these
// tests exercise only the code they are about).
import { Command } from 'commander';
import { register as label } from '../../experiments/commands/label.js';
import { register as clips } from '../../experiments/commands/clips.js';
import { register as view } from '../../experiments/commands/view.js';

const program = new Command().name('pbrl').showHelpAfterError();
label(program);
clips(program);
view(program);
await program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`pbrl: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
