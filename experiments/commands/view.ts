/**
 * `pbrl view <run>`: serves the three.js replay page for a run's recorded episodes on a local port.
 */
import type { Command } from 'commander';
import { loadRun } from '../../viewer/run-data.js';
import { randomBytes } from 'node:crypto';
import { buildServer, isLoopback, listen, reachableUrls } from '../../viewer/server.js';
import { intOption } from '../../viewer/cli-options.js';

export function register(program: Command): void {
  program
    .command('view')
    .description('replay a run\'s recorded episodes in a three.js page served locally')
    .argument('<run>', 'run folder (from `pbrl rollout --out`) or its trajectories.pbrl')
    .option('--host <addr>', 'address to listen on; anything but loopback (e.g. 0.0.0.0) requires an access token, printed once in the URL', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', '8780')
    .option('--token <secret>', 'access token for a non-loopback --host (default: a random one); at least 16 characters')
    .action(async (runPath: string, opts: { host: string; port: string; token?: string }) => {
      const port = intOption('port', opts.port, 0, 65535);
      if (opts.token !== undefined && opts.token.length < 16) throw new Error('--token must be at least 16 characters');
      const loopback = isLoopback(opts.host);
      // As `pbrl label`: off loopback the recorded episodes are readable by anyone who reaches the port.
      const accessToken = loopback ? opts.token : (opts.token ?? randomBytes(16).toString('hex'));
      const run = loadRun(runPath);
      const app = await buildServer({ run, ...(accessToken ? { accessToken } : {}) });
      const url = await listen(app, { host: opts.host, port }).catch((e: NodeJS.ErrnoException) => {
        throw e.code === 'EADDRINUSE' ? new Error(`port ${port} is in use; pick another with --port (0 = any free port)`) : e;
      });
      const query = accessToken ? `?token=${accessToken}` : '';
      if (loopback) {
        console.log(`viewer for ${run.name} (${run.trajectories.length} episodes): ${url}/${query}`);
      } else {
        const urls = reachableUrls(opts.host, Number(new URL(url).port));
        console.log(`WARNING: listening on ${opts.host}: anyone who can reach this machine can open the page; the token in the URL is its only guard.`);
        for (const u of urls.length ? urls : [url]) console.log(`viewer for ${run.name} (${run.trajectories.length} episodes): ${u}/${query}`);
      }
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
