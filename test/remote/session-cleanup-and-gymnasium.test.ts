/**
 * Clients free their sessions (on close() and when their process exits), and the Python client is a
 * Gymnasium citizen when Gymnasium is installed: `gymnasium.make("pbrl/<task>")` and Gymnasium's own
 * env checker. Gymnasium is optional (CI has only Debian's python3-zmq and python3-numpy), so those
 * tests skip and say why; PBRL_PYTHON=/path/to/venv/python runs them against an interpreter that has it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { EnvServer } from '../../remote/env-server.js';
import { taskNames } from '../../envs/registry.js';
import { PYTHON, ipcEndpoint, pythonHasGymnasium, pythonHasZmq, runPython, waitUntil } from './helpers.js';

const ipc = ipcEndpoint('cleanup');
let server: EnvServer;
let endpoint: string;
const hasGym = pythonHasZmq() && pythonHasGymnasium();
if (!hasGym) {
  console.log(
    `[skip] Gymnasium tests: ${PYTHON} cannot import gymnasium (optional; e.g. python3 -m venv --system-site-packages /tmp/gymvenv && /tmp/gymvenv/bin/pip install gymnasium, then PBRL_PYTHON=/tmp/gymvenv/bin/python)`,
  );
}

beforeAll(async () => {
  if (!pythonHasZmq()) throw new Error(`${PYTHON} cannot import zmq and numpy (scripts/setup.sh installs python3-zmq python3-numpy)`);
  server = new EnvServer({ task: 'reach', numEnvs: 2, bind: ipc.endpoint });
  endpoint = await server.start();
});

afterAll(async () => {
  await server?.close();
  ipc.cleanup();
});

describe('sessions are freed', () => {
  it('Python: close() frees a session, and sessions left open are closed when the interpreter exits', async () => {
    const script = `
import json, sys
from pbrl_client import PbrlEnv, PbrlVectorEnv, PbrlConnection
ep = sys.argv[1]
def hello():
    with PbrlConnection(ep, 5000) as c:
        return c.hello()["sessions"]
a = PbrlEnv(ep)
b = PbrlVectorEnv(ep, num_envs=3)
c = PbrlEnv(ep)
PbrlEnv(ep)  # dropped at once, never closed
import gc; gc.collect()
opened = hello()
a.close()
a.close()  # twice is fine
after_close = hello()
print(json.dumps([opened, after_close]))
# b, c and the dropped one are never closed: the exit hook must free them.
`;
    expect(server.sessionCount).toBe(0);
    const r = await runPython(['-c', script, endpoint]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([4, 3]);
    expect(server.sessionCount).toBe(0);
  });

  it('TS: sessions left open are closed when the process exits, even through process.exit()', async () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'exit-without-close.ts');
    const tsx = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const code = await new Promise<number | null>((resolve, reject) => {
      const p = spawn(tsx, [fixture, endpoint], { stdio: ['ignore', 'pipe', 'inherit'] });
      p.on('error', reject);
      p.on('close', resolve);
    });
    expect(code).toBe(0);
    // The close requests were sent from the exit hook; give the server a moment to handle them.
    expect(await waitUntil(() => server.sessionCount === 0, 3000)).toBe(true);
  });
});

describe('Python client and Gymnasium', () => {
  it('registers exactly the server\'s tasks', async () => {
    const r = await runPython(['-c', 'import json, pbrl_client; print(json.dumps(list(pbrl_client.TASKS)))']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(taskNames());
  });

  it('without Gymnasium (import blocked) the numpy-only path works: BoxSpec spaces, plain class', async () => {
    const script = `
import json, sys
sys.modules["gymnasium"] = None  # as if not installed
import pbrl_client
from pbrl_client import PbrlEnv, BoxSpec
env = PbrlEnv(sys.argv[1])
obs, info = env.reset(seed=0)
obs, r, term, trunc, info = env.step(env.action_space.sample())
print(json.dumps([type(env.action_space).__name__, [c.__name__ for c in PbrlEnv.__mro__], obs.shape[0], pbrl_client._gym is None]))
env.close()
`;
    const r = await runPython(['-c', script, endpoint]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['BoxSpec', ['PbrlEnv', 'object'], 39, true]);
  });

  it.skipIf(!hasGym)('gymnasium.make("pbrl/<task>") builds a PbrlEnv, passes gymnasium\'s check_env, and close() frees the session', async () => {
    const script = `
import json, sys, warnings
import gymnasium, pbrl_client
from gymnasium.utils.env_checker import check_env
ep = sys.argv[1]
def sessions():
    with pbrl_client.PbrlConnection(ep, 5000) as c:
        return c.hello()["sessions"]
out = {"version": gymnasium.__version__}
out["ids"] = sorted(i for i in gymnasium.registry if i.startswith("pbrl/"))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    env = gymnasium.make("pbrl/push", endpoint=ep, max_path_length=20)
    out["type"] = type(env.unwrapped).__name__
    out["task"] = env.unwrapped.task
    out["is_gym_env"] = isinstance(env.unwrapped, gymnasium.Env)
    out["box"] = type(env.observation_space).__name__
    check_env(env.unwrapped)
    obs, info = env.reset(seed=0)
    ends = 0
    for t in range(25):
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        if term or trunc:
            ends += 1
            obs, info = env.reset()
    out["ends"] = ends
    out["sessions_open"] = sessions()
    env.close()
    out["sessions_closed"] = sessions()
out["warnings"] = sorted({str(w.message) for w in caught})
print(json.dumps(out))
`;
    const r = await runPython(['-c', script, endpoint]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    console.log(`gymnasium ${out.version} check_env: passed; its warnings: ${JSON.stringify(out.warnings)}`);
    expect(out.ids).toEqual(taskNames().map((t) => `pbrl/${t}`).sort());
    expect(out).toMatchObject({ type: 'PbrlEnv', task: 'push', is_gym_env: true, box: 'Box', ends: 1, sessions_closed: 0 });
    expect(out.sessions_open).toBeGreaterThanOrEqual(1);
    // The checker's only remarks are about Meta-World's observation bounds (hidden goal slots are
    // [0, 0]; object slots are unbounded), which the envs keep on purpose.
    for (const w of out.warnings) expect(w).toMatch(/Box observation space (maximum and minimum values are equal|minimum value is -infinity|maximum value is infinity)/);
  });
});
