/**
 * `pbrl view <run>`: serves the three.js replay page for a run's recorded episodes on a local port.
 */
import type { Command } from 'commander';
import { loadRun } from '../../viewer/run-data.js';
import { buildServer, listen } from '../../viewer/server.js';
import { intOption } from '../../viewer/cli-options.js';

export function register(program: Command): void {
  program
    .command('view')
    .description('replay a run\'s recorded episodes in a three.js page served locally')
    .argument('<run>', 'run folder (from `pbrl rollout --out`) or its trajectories.pbrl')
    .option('--host <addr>', 'address to listen on (0.0.0.0 exposes it to the network)', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', '8780')
    .action(async (runPath: string, opts: { host: string; port: string }) => {
      const port = intOption('port', opts.port, 0, 65535);
      const run = loadRun(runPath);
      const app = await buildServer({ run });
      const url = await listen(app, { host: opts.host, port }).catch((e: NodeJS.ErrnoException) => {
        throw e.code === 'EADDRINUSE' ? new Error(`port ${port} is in use; pick another with --port (0 = any free port)`) : e;
      });
      console.log(`viewer for ${run.name} (${run.trajectories.length} episodes): ${url}/`);
      console.log('Ctrl-C to stop');
      await waitForSignal();
      await app.close();
    });
}

/** Resolves on Ctrl-C / SIGTERM so the command can close the server cleanly. */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
