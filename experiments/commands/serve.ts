/** `pbrl serve`: environments over ZeroMQ for clients in any language (protocol: remote/README.md). */
import type { Command } from 'commander';
import { EnvServer, DEFAULT_BIND, isLoopback } from '../../remote/env-server.js';
import { PROTOCOL_VERSION } from '../../remote/protocol.js';
import { generateKeys, loadServerCurve } from '../../remote/curve-keys.js';
import { taskNames } from '../../envs/registry.js';
import { parseEnvVersion } from '../../envs/sawyer-env.js';

interface ServeOpts {
  task: string;
  numEnvs: string;
  bind: string;
  maxSessions: string;
  sessionIdle: string;
  maxPathLength?: string;
  goalObservable?: boolean;
  envVersion: string;
  quiet?: boolean;
  keygen?: string;
  name: string;
  curve?: string;
  insecure?: boolean;
}

function intOption(name: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got "${value}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve environments over ZeroMQ (JSON header + float32 frames, see remote/README.md); Python client: remote/python/pbrl_client.py')
    .option('--task <name>', `task a session gets unless it asks for another (${taskNames().join(', ')})`, 'reach')
    .option('--num-envs <n>', 'envs per session unless the client asks for another count', '8')
    .option('--bind <endpoint>', 'ZeroMQ endpoint (tcp://host:port, port 0 = any free port; ipc://path)', DEFAULT_BIND)
    .option('--max-sessions <n>', 'sessions held at once (each client opens its own env set)', '32')
    .option('--session-idle <seconds>', 'close sessions unused this long', '600')
    .option('--max-path-length <n>', 'episode length before truncation (default: 500)')
    .option('--goal-observable', 'show the goal in obs[36:39] unless a session asks otherwise (default hidden, as Meta-World\'s raw tasks and B-Pref)')
    .option('--env-version <v>', 'Meta-World version the envs match where they differ: v2 (B-Pref, mid-2021) | v3', 'v2')
    .option('--quiet', 'do not log client errors and expired sessions')
    .option('--curve <dir>', 'encrypt with CURVE and accept only the client keys in <dir> (its server.key_secret and every <name>.key)')
    .option('--keygen <dir>', 'write CURVE keys into <dir> (server pair if absent, plus client pair --name; files 0600, never overwritten) and exit')
    .option('--name <name>', 'with --keygen: name of the client pair to write', 'client')
    .option('--insecure', 'allow a non-loopback --bind without --curve (anyone who reaches the port can use the server)')
    .addHelpText(
      'after',
      `
Requests: frame 0 a JSON header ({"v": ${PROTOCOL_VERSION}, "cmd", "id"?, ...}); only "step" carries one more
frame (float32 actions). Unknown fields or extra frames are refused (bad_request / bad_frame).

Security: the default bind is loopback. A non-loopback --bind needs --curve (or --insecure):
  pbrl serve --keygen keys/                   # keys/server.key(_secret), keys/client.key(_secret)
  pbrl serve --bind tcp://0.0.0.0:5555 --curve keys/
  # client machine: copy keys/server.key and keys/client.key_secret, then
  #   TS:     RemoteVectorEnv.open(ep, { curve: loadClientCurve('keys') })
  #   Python: PbrlVectorEnv(ep, keys="keys")
More clients: pbrl serve --keygen keys/ --name alice (restart the server to accept it).`,
    )
    .action(async (opts: ServeOpts) => {
      if (opts.keygen !== undefined) {
        const { written } = generateKeys(opts.keygen, opts.name);
        console.log(`pbrl serve: wrote ${written.join(', ')} (mode 0600)`);
        console.log(`pbrl serve: serve with --curve ${opts.keygen}; a client needs server.key and ${opts.name}.key_secret`);
        return;
      }
      const curve = opts.curve !== undefined ? loadServerCurve(opts.curve) : undefined;
      const server = new EnvServer({
        task: opts.task,
        numEnvs: intOption('num-envs', opts.numEnvs, 1, 256),
        bind: opts.bind,
        maxSessions: intOption('max-sessions', opts.maxSessions, 1),
        sessionIdleMs: intOption('session-idle', opts.sessionIdle, 1) * 1000,
        maxPathLength: opts.maxPathLength !== undefined ? intOption('max-path-length', opts.maxPathLength, 1) : undefined,
        goalObservable: Boolean(opts.goalObservable),
        version: parseEnvVersion(opts.envVersion, '--env-version'),
        log: opts.quiet ? undefined : (line) => console.error(`[pbrl serve] ${line}`),
        curve,
        insecure: Boolean(opts.insecure),
      });
      const endpoint = await server.start();
      console.log(`pbrl serve: task ${opts.task}, ${opts.numEnvs} env(s) per session, goal ${opts.goalObservable ? 'observable' : 'hidden'} by default, Meta-World ${opts.envVersion}, protocol v${PROTOCOL_VERSION}, listening on ${endpoint}`);
      if (curve) {
        console.log(`pbrl serve: CURVE on, server public key ${curve.publicKey}, accepting ${curve.clients.length} client key(s): ${curve.clients.map((c) => c.name).join(', ')}`);
      }
      if (!isLoopback(endpoint)) {
        console.log(curve ? 'pbrl serve: this endpoint accepts CURVE clients from other machines' : 'pbrl serve: WARNING --insecure: anyone who reaches this endpoint can use it');
      }
      console.log('pbrl serve: Ctrl-C stops');
      await new Promise<void>((resolve) => {
        const stop = (sig: string): void => {
          console.error(`pbrl serve: ${sig}, closing (${server.requests} requests served, ${server.errors} answered with an error)`);
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await server.close();
    });
}
