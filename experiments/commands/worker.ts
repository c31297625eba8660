/**
 * `pbrl worker`: runs `pbrl bench` cells from a BullMQ queue on Redis (experiments/bench/worker.ts).
 * Start one per machine (with --concurrency = its cores); each cell gets one BLAS thread.
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { startWorker } from '../bench/worker.js';

function posInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got "${v}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run benchmark cells queued by `pbrl bench run --queue` (BullMQ on Redis); results go to the shared results directory each job names')
    .requiredOption('--queue <redis-url>', 'Redis URL, e.g. redis://10.0.0.5:6379')
    .option('--queue-name <name>', 'BullMQ queue name', 'pbrl-bench')
    .option('--concurrency <n>', 'cells at once (default: number of cores)')
    .option('--name <name>', 'recorded in each cell\'s status.json (default: host:pid)')
    .option('--lock-duration <ms>', 'how long a job stays locked without renewal: a dead worker\'s cell is taken over after this (default 30000)')
    .option('--stalled-interval <ms>', 'period of the check for stalled jobs (default 30000)')
    .addHelpText('after', [
      '', 'Ctrl-C (or SIGTERM) stops taking jobs; running cells checkpoint and go back to the queue for the next worker.',
      'The results directory must be reachable at the same path as on the machine that ran `pbrl bench run --queue`.',
      '', 'Examples:',
      '  pbrl worker --queue redis://127.0.0.1:6379',
      '  pbrl worker --queue redis://10.0.0.5:6379 --concurrency 8',
    ].join('\n'))
    .action(async (opts: { queue: string; queueName: string; concurrency?: string; name?: string; lockDuration?: string; stalledInterval?: string }) => {
      const w = await startWorker({
        url: opts.queue, queueName: opts.queueName, concurrency: posInt('concurrency', opts.concurrency, availableParallelism()), name: opts.name,
        lockDuration: opts.lockDuration === undefined ? undefined : posInt('lock-duration', opts.lockDuration, 1),
        stalledInterval: opts.stalledInterval === undefined ? undefined : posInt('stalled-interval', opts.stalledInterval, 1),
      });
      await new Promise<void>((resolve) => {
        let n = 0;
        const stop = () => {
          if (++n > 1) process.exit(130);
          console.log(`[worker ${w.name}] closing: running cells checkpoint and return to the queue (Ctrl-C again to quit now)`);
          w.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
