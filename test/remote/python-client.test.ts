/**
 * The Python client (remote/python/pbrl_client.py) against a server in this process, run with
 * Debian's /usr/bin/python3 (python3-zmq, python3-numpy), as CI does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvServer } from '../../remote/env-server.js';
import { VectorEnv } from '../../envs/vector-env.js';
import { makeEnv } from '../../envs/registry.js';
import { PYTHON, PY_CLIENT as CLIENT, ipcEndpoint, pythonHasZmq, runPython } from './helpers.js';

const ipc = ipcEndpoint('python');
let server: EnvServer;
let endpoint: string;

const py = runPython;

beforeAll(async () => {
  if (!pythonHasZmq()) {
    throw new Error(`${PYTHON} cannot import zmq and numpy: install Debian's python3-zmq and python3-numpy (scripts/setup.sh does)`);
  }
  server = new EnvServer({ task: 'push', numEnvs: 2, bind: ipc.endpoint });
  endpoint = await server.start();
});

afterAll(async () => {
  await server?.close();
  ipc.cleanup();
});

const f32 = (xs: number[]) => xs.map(Math.fround);

describe('Python client', () => {
  it('PbrlEnv gives the same trajectory as in-process stepping (obs, reward, truncation, reset)', async () => {
    const r = await py([CLIENT, 'rollout', '--endpoint', endpoint, '--task', 'reach', '--steps', '14', '--seed', '3', '--max-path-length', '6']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const env = await makeEnv('reach', { maxPathLength: 6 });
    expect(lines[0].obs).toEqual(Array.from(env.reset({ seed: 3 }).obs));
    let resets = 0;
    for (const line of lines.slice(1)) {
      if (line.reset_obs) {
        resets++;
        expect(line.reset_obs).toEqual(Array.from(env.reset().obs));
        continue;
      }
      const s = env.step(f32(line.action));
      expect(line.obs).toEqual(Array.from(s.obs));
      expect(line.reward).toBe(s.reward);
      expect(line.truncated).toBe(s.truncated);
      expect(line.success).toBe(s.info.success);
    }
    expect(resets).toBe(2);
    env.close();
  });

  it('PbrlVectorEnv equals VectorEnv with the same seed, autoreset and final observations included', async () => {
    const r = await py([CLIENT, 'rollout', '--endpoint', endpoint, '--num-envs', '3', '--steps', '9', '--seed', '10', '--max-path-length', '4']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const vec = await VectorEnv.make('push', 3, { seed: 10, maxPathLength: 4 });
    expect(lines[0].obs.flat()).toEqual(Array.from(vec.reset()));
    let finals = 0;
    for (const line of lines.slice(1)) {
      const s = vec.step(f32(line.action.flat()));
      expect(line.obs.flat()).toEqual(Array.from(s.obs));
      expect(f32(line.reward)).toEqual(Array.from(s.rewards));
      expect(line.truncated).toEqual(Array.from(s.truncated, Boolean));
      for (let i = 0; i < 3; i++) {
        if (s.finalObs[i]) {
          finals++;
          expect(line.final_obs[i]).toEqual(Array.from(s.finalObs[i]!));
        } else expect(line.final_obs[i]).toBeNull();
      }
    }
    expect(finals).toBe(6);
    vec.close();
  });

  it('exposes spaces, poses, error replies and timeouts to Python code', async () => {
    const script = `
import json, sys
import numpy as np
from pbrl_client import PbrlEnv, PbrlVectorEnv, RemoteError, RemoteTimeout
ep = sys.argv[1]
out = {}
env = PbrlEnv(ep)
out["obs_shape"] = list(env.observation_space.shape)
out["act_low"] = np.asarray(env.action_space.low).tolist()
out["act_high"] = np.asarray(env.action_space.high).tolist()
obs, info = env.reset(seed=1)
out["obs_dtype"] = str(obs.dtype)
out["sample_ok"] = bool(env.action_space.contains(env.action_space.sample()))
names, poses = env.poses()
out["poses"] = [names, list(poses.shape)]
try:
    env.step(np.array([0.0, np.nan, 0.0, 0.0], dtype=np.float32))
except RemoteError as e:
    out["nan"] = [e.code, str(e)]
try:
    env.step(np.zeros(3))
except ValueError as e:
    out["short"] = str(e)
o2, r, term, trunc, inf = env.step([0.1, 0.0, 0.0, 1.0])
out["after_errors"] = [o2.shape[0], type(r).__name__, term, trunc, sorted(inf)]
env.close()
venv = PbrlVectorEnv(ep)
out["venv"] = [venv.num_envs, list(venv.observation_space.shape), list(venv.action_space.shape)]
venv.close()
try:
    PbrlEnv("ipc:///nonexistent/pbrl-nobody.sock", timeout_ms=200)
except RemoteTimeout as e:
    out["timeout"] = str(e)
print(json.dumps(out))
`;
    const r = await py(['-c', script, endpoint]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.obs_shape).toEqual([39]);
    expect(out.act_low).toEqual([-1, -1, -1, -1]);
    expect(out.act_high).toEqual([1, 1, 1, 1]);
    expect(out.obs_dtype).toBe('float32');
    expect(out.sample_ok).toBe(true);
    expect(out.poses[0]).toContain('hand');
    expect(out.poses[1]).toEqual([1, out.poses[0].length, 7]);
    expect(out.nan[0]).toBe('bad_action');
    expect(out.nan[1]).toMatch(/env 0, component 1 is NaN/);
    expect(out.short).toMatch(/expected \(1, 4\)/);
    expect(out.after_errors).toEqual([39, 'float', false, false, expect.arrayContaining(['success', 'near_object'])]);
    expect(out.venv).toEqual([2, [2, 39], [2, 4]]);
    expect(out.timeout).toMatch(/no reply from ipc:\/\/\/nonexistent\/pbrl-nobody\.sock to 'open' within 200 ms/);
  });
});
