"""Python client for pbrl's remote environments (``pbrl serve``).

One file, needing only ``pyzmq`` and ``numpy``. When ``gymnasium`` is installed, ``PbrlEnv`` is a
``gymnasium.Env`` and the spaces are ``gymnasium.spaces.Box``; without it they are ``BoxSpec``
objects with the same attributes (low, high, shape, dtype, sample(), contains()).

    from pbrl_client import PbrlEnv, PbrlVectorEnv
    env = PbrlEnv("tcp://127.0.0.1:5555")            # one env, Gymnasium API
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

    venv = PbrlVectorEnv("tcp://127.0.0.1:5555", num_envs=8)   # batched, same-step autoreset
    obs, infos = venv.reset(seed=0)                  # obs: float32 [8, 39]; env i uses seed + i
    obs, rewards, terminated, truncated, infos = venv.step(actions)  # actions: [8, 4]

With Gymnasium installed, importing this module also registers every task as ``pbrl/<task>``:

    import gymnasium, pbrl_client
    env = gymnasium.make("pbrl/push", endpoint="tcp://127.0.0.1:5555")

For a server started with ``pbrl serve --curve DIR`` pass ``keys=DIR`` (a folder holding
``server.key`` and ``client.key_secret``, written by ``pbrl serve --keygen DIR``; ``key_name``
picks another client pair). Sessions still open when the interpreter exits are closed on the server.

The wire protocol is described in remote/README.md: a JSON header frame plus raw little-endian
float32/float64 frames, protocol version 1.
"""

from __future__ import annotations

import argparse
import atexit
import itertools
import json
import os
import re
import stat
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import zmq

try:  # Optional: real Gymnasium classes when available.
    import gymnasium as _gym
    from gymnasium import spaces as _gym_spaces
except ImportError:  # pragma: no cover - depends on the machine
    _gym = None
    _gym_spaces = None

PROTOCOL_VERSION = 1
DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"
_DTYPES = {"float32": np.float32, "float64": np.float64, "uint8": np.uint8}

__all__ = [
    "PbrlConnection",
    "PbrlEnv",
    "PbrlVectorEnv",
    "BoxSpec",
    "RemoteError",
    "RemoteTimeout",
    "RemoteAuthError",
    "CurveKeys",
    "load_client_keys",
    "TASKS",
    "PROTOCOL_VERSION",
]

# The server's task names (envs/registry.ts; a test checks the two lists agree). Registered with
# Gymnasium as "pbrl/<task>" when it is installed.
TASKS = (
    "reach",
    "push",
    "pick-place",
    "door-open",
    "drawer-open",
    "drawer-close",
    "button-press-topdown",
    "peg-insert-side",
    "window-open",
    "window-close",
    "button-press",
    "plate-slide",
    "sweep-into",
    "bin-picking",
)


class RemoteError(RuntimeError):
    """The server answered a request with an error reply; ``code`` says which kind."""

    def __init__(self, cmd: str, code: str, message: str):
        super().__init__(f"{cmd}: {message} [{code}]")
        self.cmd = cmd
        self.code = code


class RemoteTimeout(TimeoutError):
    """No reply within the connection's timeout."""


class RemoteAuthError(ConnectionError):
    """The server refused this client's CURVE key (retrying with the same key cannot help)."""


# ---- CURVE keys (files written by `pbrl serve --keygen DIR`, ZeroMQ certificate layout) --------------

_Z85_KEY = re.compile(r"^[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}$")
_KEY_LINE = re.compile(r'^\s*(public-key|secret-key)\s*=\s*"?([^"\s]*)"?\s*$')
_KEY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class CurveKeys:
    """A client's CURVE pair and the server's public key (Z85 text, 40 characters each)."""

    def __init__(self, public_key: str, secret_key: str, server_key: str):
        self.public_key = public_key
        self.secret_key = secret_key
        self.server_key = server_key

    def __repr__(self) -> str:  # never print the secret key
        return f"CurveKeys(public_key={self.public_key!r}, server_key={self.server_key!r})"


def _read_key_file(path: str, secret: bool) -> Dict[str, str]:
    try:
        st = os.stat(path)
    except OSError:
        raise ValueError(f"CURVE key file {path} does not exist (create keys with `pbrl serve --keygen DIR`)") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"CURVE key file {path} is not a regular file")
    if secret and os.name == "posix" and st.st_mode & 0o077:
        raise ValueError(f"CURVE secret key file {path} is readable by others (mode {st.st_mode & 0o777:o}); run: chmod 600 {path}")
    if st.st_size > 64 * 1024:
        raise ValueError(f"CURVE key file {path} is {st.st_size} bytes; a key file is a few hundred")
    found: Dict[str, str] = {}
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _KEY_LINE.match(line.rstrip("\n"))
            if not m:
                continue
            if m.group(1) in found:
                raise ValueError(f"CURVE key file {path} is malformed: {m.group(1)} appears twice")
            found[m.group(1)] = m.group(2)
    fields = ["public-key", "secret-key"] if secret else ["public-key"]
    for field in fields:
        if field not in found:
            raise ValueError(f'CURVE key file {path} is malformed: no {field} line (expected {field} = "<40 Z85 characters>")')
        if not _Z85_KEY.match(found[field]):
            raise ValueError(f"CURVE key file {path} is malformed: {field} is not a 40-character Z85 key")
    return found


def load_client_keys(directory: str, name: str = "client") -> CurveKeys:
    """Reads ``directory/<name>.key_secret`` and ``directory/server.key``; every fault is named."""
    if not _KEY_NAME.match(name):
        raise ValueError(f"key name must be 1-64 letters, digits, '_' or '-', got {name!r}")
    own = _read_key_file(os.path.join(directory, f"{name}.key_secret"), True)
    server = _read_key_file(os.path.join(directory, "server.key"), False)
    return CurveKeys(own["public-key"], own["secret-key"], server["public-key"])


class BoxSpec:
    """Stand-in for ``gymnasium.spaces.Box`` when Gymnasium is not installed."""

    def __init__(self, low: np.ndarray, high: np.ndarray, shape: Sequence[int], dtype=np.float32, seed: Optional[int] = None):
        self.low = np.asarray(low, dtype=dtype).reshape(shape)
        self.high = np.asarray(high, dtype=dtype).reshape(shape)
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self._rng = np.random.default_rng(seed)

    def seed(self, seed: Optional[int] = None) -> None:
        self._rng = np.random.default_rng(seed)

    def sample(self) -> np.ndarray:
        # Uniform where bounded, standard normal where not (as Gymnasium does).
        bounded = np.isfinite(self.low) & np.isfinite(self.high)
        out = self._rng.standard_normal(self.shape)
        lo = np.where(bounded, self.low, 0.0)
        hi = np.where(bounded, self.high, 1.0)
        out = np.where(bounded, self._rng.uniform(lo, hi), out)
        return out.astype(self.dtype)

    def contains(self, x: Any) -> bool:
        x = np.asarray(x)
        return x.shape == self.shape and bool(np.all(x >= self.low) and np.all(x <= self.high))

    def __repr__(self) -> str:
        return f"BoxSpec(shape={self.shape}, dtype={self.dtype})"


def _box(spec: Dict[str, Any], batch: Optional[int] = None):
    """A space from the server's JSON (null bounds mean unbounded), optionally batched."""
    low = np.array([-np.inf if v is None else v for v in spec["low"]], dtype=np.float32)
    high = np.array([np.inf if v is None else v for v in spec["high"]], dtype=np.float32)
    shape = tuple(spec.get("shape") or [low.size])
    low, high = low.reshape(shape), high.reshape(shape)
    if batch is not None:
        low = np.broadcast_to(low, (batch,) + shape).copy()
        high = np.broadcast_to(high, (batch,) + shape).copy()
        shape = (batch,) + shape
    if _gym_spaces is not None:
        return _gym_spaces.Box(low=low, high=high, shape=shape, dtype=np.float32)
    return BoxSpec(low, high, shape, np.float32)


class PbrlConnection:
    """A DEALER socket to a pbrl env server with request ids and a reply timeout.

    Replies are matched by id, so a late reply to a request that timed out is dropped rather than
    taken for the answer to the next request.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout_ms: int = 30_000,
        context: Optional[zmq.Context] = None,
        keys: Optional[str] = None,
        key_name: str = "client",
        curve: Optional[CurveKeys] = None,
    ):
        if timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be positive, got {timeout_ms}")
        if keys is not None and curve is None:
            curve = load_client_keys(keys, key_name)
        if curve is not None and not zmq.has("curve"):
            raise RuntimeError("this pyzmq/libzmq was built without CURVE support; install one with it (Debian's python3-zmq has it)")
        self.endpoint = endpoint
        self.timeout_ms = timeout_ms
        self.curve = curve
        self._ctx = context or zmq.Context.instance()
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._monitor = None
        self._poller: Optional[zmq.Poller] = None
        self._handshake_error: Optional[str] = None
        self._failure: Optional[RemoteAuthError] = None
        if curve is not None:
            self._sock.curve_serverkey = curve.server_key.encode("ascii")
            self._sock.curve_publickey = curve.public_key.encode("ascii")
            self._sock.curve_secretkey = curve.secret_key.encode("ascii")
            # Handshake events say why a CURVE connection never answers (refused key, wrong server key).
            self._monitor = self._sock.get_monitor_socket(
                zmq.EVENT_HANDSHAKE_SUCCEEDED
                | zmq.EVENT_HANDSHAKE_FAILED_AUTH
                | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
            )
            self._poller = zmq.Poller()
            self._poller.register(self._sock, zmq.POLLIN)
            self._poller.register(self._monitor, zmq.POLLIN)
        self._sock.connect(endpoint)
        self._ids = itertools.count(1)
        self._closed = False

    def _read_monitor(self) -> None:
        from zmq.utils.monitor import recv_monitor_message

        while self._monitor is not None and self._monitor.poll(0):
            ev = recv_monitor_message(self._monitor)
            kind = ev["event"]
            if kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self._failure = RemoteAuthError(
                    f"{self.endpoint} refused this client's CURVE key (ZAP status {ev['value']}); "
                    "the server accepts only the <name>.key files in its --curve folder"
                )
            elif kind == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:  # value is an errno
                self._handshake_error = f"handshake failed: {os.strerror(ev['value'])}"
            elif kind == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:  # value is a ZMTP protocol error code
                self._handshake_error = f"handshake failed: protocol error 0x{ev['value']:x}"
            elif kind == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self._handshake_error = None

    def _timeout_message(self, cmd: str, timeout_ms: int) -> str:
        msg = f"no reply from {self.endpoint} to {cmd!r} within {timeout_ms} ms; is `pbrl serve` running there and reachable?"
        if self.curve is not None:
            msg += " This connection uses CURVE: check that its server key is this server's server.key and that the server runs with --curve"
            if self._handshake_error:
                msg += f" (the CURVE {self._handshake_error})"
        return msg

    def request(
        self, header: Dict[str, Any], frames: Sequence[bytes] = (), timeout_ms: Optional[int] = None
    ) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
        """Sends one request; returns (reply header, payload arrays by name). Raises RemoteError."""
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise RuntimeError(f"connection to {self.endpoint} is closed")
        timeout_ms = self.timeout_ms if timeout_ms is None else timeout_ms
        rid = next(self._ids)
        msg = {k: v for k, v in header.items() if v is not None}
        msg["v"] = PROTOCOL_VERSION
        msg["id"] = rid
        self._sock.send_multipart([json.dumps(msg).encode("utf-8"), *frames], copy=False)
        deadline = time.monotonic() + timeout_ms / 1000.0
        while True:
            remaining = deadline - time.monotonic()
            wait = int(remaining * 1000) + 1 if remaining > 0 else 0
            if self._poller is None:  # the common, plain case: one socket, no poller
                readable = wait > 0 and bool(self._sock.poll(wait, zmq.POLLIN))
            else:
                ready = dict(self._poller.poll(wait)) if wait > 0 else {}
                if self._monitor in ready:
                    self._read_monitor()
                    if self._failure is not None:
                        self.close()
                        raise self._failure
                readable = self._sock in ready
            if not readable:
                if time.monotonic() < deadline:
                    continue
                raise RemoteTimeout(self._timeout_message(header["cmd"], timeout_ms))
            parts = self._sock.recv_multipart(copy=True)
            if parts and len(parts[0]) == 0:  # REQ-style delimiter
                parts = parts[1:]
            reply = json.loads(parts[0].decode("utf-8"))
            if reply.get("id") != rid:
                continue  # stale reply to an earlier, timed-out request
            if reply.get("v") != PROTOCOL_VERSION:
                raise RuntimeError(f"server speaks protocol v={reply.get('v')}, this client v={PROTOCOL_VERSION}")
            if not reply.get("ok"):
                err = reply.get("error") or {}
                raise RemoteError(header["cmd"], err.get("code", "unknown"), err.get("message", "request failed"))
            arrays: Dict[str, np.ndarray] = {}
            for k, spec in enumerate(reply.get("frames") or []):
                dt = np.dtype(_DTYPES[spec["dtype"]]).newbyteorder("<")
                arrays[spec["name"]] = np.frombuffer(parts[k + 1], dtype=dt).reshape(spec["shape"])
            return reply, arrays

    def hello(self) -> Dict[str, Any]:
        return self.request({"cmd": "hello"})[0]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._monitor is not None:
                try:
                    self._sock.disable_monitor()
                except zmq.ZMQError:
                    pass
                self._monitor.close(0)
                self._monitor = None
                self._poller = None
            self._sock.close(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# Sessions not closed yet; closed on the server when the interpreter exits (see _close_at_exit).
# Strong references on purpose: an env dropped without close() still holds envs on the server, and
# only a reference kept here lets the exit hook free them.
_LIVE_SESSIONS: "set[_Session]" = set()


class _Session:
    """An env set on the server (opened with ``open``); shared plumbing of both env classes."""

    def __init__(self, endpoint, num_envs, autoreset, task, max_path_length, goal_observable, timeout_ms, connection, keys=None, key_name="client"):
        self._owns = connection is None
        self.conn = connection or PbrlConnection(endpoint, timeout_ms, keys=keys, key_name=key_name)
        try:
            h, _ = self.conn.request(
                {
                    "cmd": "open",
                    "task": task,
                    "numEnvs": num_envs,
                    "autoreset": autoreset,
                    "maxPathLength": max_path_length,
                    "goalObservable": goal_observable,
                }
            )
        except Exception:
            if self._owns:
                self.conn.close()
            raise
        self.header = h
        self.id: str = h["session"]
        self.num_envs: int = h["numEnvs"]
        self.obs_dim: int = h["obsDim"]
        self.act_dim: int = h["actDim"]
        self.closed = False
        _LIVE_SESSIONS.add(self)

    def req(self, header: Dict[str, Any], frames: Sequence[bytes] = ()):
        header = dict(header, session=self.id)
        return self.conn.request(header, frames)

    def actions_frame(self, actions: Any, shape: Tuple[int, ...]) -> bytes:
        a = np.asarray(actions, dtype=np.float32)
        if a.size != int(np.prod(shape)):
            raise ValueError(f"action has shape {a.shape}, expected {shape}")
        return np.ascontiguousarray(a.reshape(shape), dtype="<f4").tobytes()

    def poses(self) -> Tuple[List[str], np.ndarray]:
        h, arr = self.req({"cmd": "poses"})
        return h["bodyNames"], arr["poses"].copy()

    def close(self, timeout_ms: Optional[int] = None) -> None:
        if self.closed:
            return
        self.closed = True
        _LIVE_SESSIONS.discard(self)
        try:
            self.conn.request({"cmd": "close", "session": self.id}, (), timeout_ms)
        except (RemoteError, RemoteTimeout, RemoteAuthError, RuntimeError):
            pass  # server gone, session expired or connection closed: nothing left to free
        finally:
            if self._owns:
                self.conn.close()


@atexit.register
def _close_at_exit() -> None:
    # A script that never calls close() would otherwise leave its envs on the server until the
    # server's idle timeout (10 minutes by default).
    for s in list(_LIVE_SESSIONS):
        s.close(timeout_ms=min(1000, s.conn.timeout_ms))


_EnvBase = _gym.Env if _gym is not None else object


class PbrlEnv(_EnvBase):  # type: ignore[misc, valid-type]
    """One remote env with the Gymnasium API. After ``terminated`` or ``truncated``, call reset()."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        task: Optional[str] = None,
        max_path_length: Optional[int] = None,
        goal_observable: Optional[bool] = None,
        timeout_ms: int = 30_000,
        connection: Optional[PbrlConnection] = None,
        keys: Optional[str] = None,
        key_name: str = "client",
        render_mode: Optional[str] = None,
    ):
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported: PbrlEnv renders nothing (poses() gives body poses for pbrl's viewer)")
        self._s = _Session(endpoint, 1, False, task, max_path_length, goal_observable, timeout_ms, connection, keys, key_name)
        self.task: str = self._s.header["task"]
        self.max_path_length: int = self._s.header["maxPathLength"]
        self.observation_space = _box(self._s.header["observationSpace"])
        self.action_space = _box(self._s.header["actionSpace"])
        self.render_mode = None

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None):
        if _gym is not None:
            super().reset(seed=seed)  # seeds self.np_random, as Gymnasium expects
        h, arr = self._s.req({"cmd": "reset", "seed": seed, "options": options})
        return arr["obs"][0].copy(), dict(h["infos"][0])

    def step(self, action):
        h, arr = self._s.req({"cmd": "step"}, [self._s.actions_frame(action, (1, self._s.act_dim))])
        # With autoreset off the obs slot already holds the last observation of a finished episode.
        obs = arr["obs"][0].copy()
        return obs, float(arr["reward"][0]), bool(h["terminated"][0]), bool(h["truncated"][0]), dict(h["infos"][0])

    def poses(self) -> Tuple[List[str], np.ndarray]:
        """Body names and poses, float32 [1, bodies, 7] (xyz + quaternion xyzw)."""
        return self._s.poses()

    def close(self) -> None:
        self._s.close()


class PbrlVectorEnv:
    """``num_envs`` remote envs stepped as one batch, with same-step autoreset.

    When env i ends an episode, ``obs[i]`` already holds the first observation of its next episode;
    the last observation of the finished one is in ``infos["final_obs"][i]`` (mask
    ``infos["_final_obs"]``). ``infos`` is a dict of arrays, Gymnasium vector style.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        num_envs: Optional[int] = None,
        task: Optional[str] = None,
        max_path_length: Optional[int] = None,
        goal_observable: Optional[bool] = None,
        timeout_ms: int = 30_000,
        connection: Optional[PbrlConnection] = None,
        keys: Optional[str] = None,
        key_name: str = "client",
    ):
        self._s = _Session(endpoint, num_envs, True, task, max_path_length, goal_observable, timeout_ms, connection, keys, key_name)
        self.num_envs: int = self._s.num_envs
        self.task: str = self._s.header["task"]
        self.single_observation_space = _box(self._s.header["observationSpace"])
        self.single_action_space = _box(self._s.header["actionSpace"])
        self.observation_space = _box(self._s.header["observationSpace"], self.num_envs)
        self.action_space = _box(self._s.header["actionSpace"], self.num_envs)

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None):
        h, arr = self._s.req({"cmd": "reset", "seed": seed, "options": options})
        return arr["obs"].copy(), _stack_infos(h["infos"], self.num_envs)

    def step(self, actions):
        n, d = self.num_envs, self._s.obs_dim
        h, arr = self._s.req({"cmd": "step"}, [self._s.actions_frame(actions, (n, self._s.act_dim))])
        infos = _stack_infos(h["infos"], n)
        final_obs = np.zeros((n, d), dtype=np.float32)
        mask = np.zeros(n, dtype=bool)
        for j, i in enumerate(h["final"]):
            final_obs[i] = arr["final_obs"][j]
            mask[i] = True
        infos["final_obs"] = final_obs
        infos["_final_obs"] = mask
        return (
            arr["obs"].copy(),
            arr["reward"].copy(),
            np.asarray(h["terminated"], dtype=bool),
            np.asarray(h["truncated"], dtype=bool),
            infos,
        )

    def poses(self) -> Tuple[List[str], np.ndarray]:
        """Body names and poses, float32 [num_envs, bodies, 7] (xyz + quaternion xyzw)."""
        return self._s.poses()

    def close(self) -> None:
        self._s.close()


def _stack_infos(infos: List[Dict[str, float]], n: int) -> Dict[str, np.ndarray]:
    keys = sorted({k for d in infos for k in d})
    return {k: np.array([d.get(k, 0.0) for d in infos], dtype=np.float64) for k in keys}


def _register_gymnasium() -> None:
    """Registers "pbrl/<task>" for every task; gymnasium.make's kwargs (endpoint, keys, ...) go to PbrlEnv."""
    if _gym is None:
        return
    # By module path when imported (specs stay serialisable), by object when run as a script.
    entry = f"{__name__}:PbrlEnv" if __name__ != "__main__" else PbrlEnv
    for task in TASKS:
        env_id = f"pbrl/{task}"
        if env_id not in _gym.registry:
            _gym.register(id=env_id, entry_point=entry, kwargs={"task": task})


_register_gymnasium()


# ---- command line: smoke test, trajectory dump (used by the tests) and throughput --------------------


def _rollout(args) -> None:
    """Steps with actions from a seeded numpy RNG and prints the trajectory as JSON lines."""
    rng = np.random.default_rng(args.action_seed)
    if args.num_envs == 1 and not args.vector:
        env = PbrlEnv(args.endpoint, task=args.task, max_path_length=args.max_path_length, timeout_ms=args.timeout_ms, keys=args.keys, key_name=args.key_name)
        obs, _ = env.reset(seed=args.seed)
        print(json.dumps({"t": 0, "obs": obs.tolist()}))
        for t in range(args.steps):
            a = rng.uniform(-1, 1, size=(4,)).astype(np.float32)
            obs, r, term, trunc, info = env.step(a)
            print(json.dumps({"t": t + 1, "action": a.tolist(), "obs": obs.tolist(), "reward": r, "terminated": term, "truncated": trunc, "success": info["success"]}))
            if term or trunc:
                obs, _ = env.reset()
                print(json.dumps({"t": t + 1, "reset_obs": obs.tolist()}))
        env.close()
    else:
        venv = PbrlVectorEnv(args.endpoint, num_envs=args.num_envs, task=args.task, max_path_length=args.max_path_length, timeout_ms=args.timeout_ms, keys=args.keys, key_name=args.key_name)
        obs, _ = venv.reset(seed=args.seed)
        print(json.dumps({"t": 0, "obs": obs.tolist()}))
        for t in range(args.steps):
            a = rng.uniform(-1, 1, size=(venv.num_envs, 4)).astype(np.float32)
            obs, r, term, trunc, infos = venv.step(a)
            print(json.dumps({"t": t + 1, "action": a.tolist(), "obs": obs.tolist(), "reward": r.tolist(), "truncated": trunc.tolist(), "final_obs": [infos["final_obs"][i].tolist() if infos["_final_obs"][i] else None for i in range(venv.num_envs)]}))
        venv.close()


def _bench(args) -> None:
    """Env steps/s over the wire with random actions; prints one JSON object."""
    venv = PbrlVectorEnv(args.endpoint, num_envs=args.num_envs, task=args.task, timeout_ms=args.timeout_ms, keys=args.keys, key_name=args.key_name)
    venv.reset(seed=args.seed)
    rng = np.random.default_rng(args.action_seed)
    actions = rng.uniform(-1, 1, size=(64, venv.num_envs, 4)).astype(np.float32)
    t0 = time.perf_counter()
    k = 0
    while k < 200 or time.perf_counter() - t0 < 0.5:  # warm up (the server's JIT too)
        venv.step(actions[k % 64])
        k += 1
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < args.seconds:
        venv.step(actions[steps % 64])
        steps += 1
    dt = time.perf_counter() - t0
    venv.close()
    print(json.dumps({"num_envs": venv.num_envs, "requests": steps, "env_steps_per_s": steps * venv.num_envs / dt}))


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description="pbrl remote env client (talks to `pbrl serve`)")
    p.add_argument("command", choices=["hello", "rollout", "bench"], help="hello: print server info; rollout: JSON-lines trajectory; bench: steps/s")
    p.add_argument("--endpoint", default=DEFAULT_ENDPOINT)
    p.add_argument("--task", default=None)
    p.add_argument("--num-envs", type=int, default=1)
    p.add_argument("--vector", action="store_true", help="use PbrlVectorEnv even for one env")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--action-seed", type=int, default=0)
    p.add_argument("--max-path-length", type=int, default=None)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--timeout-ms", type=int, default=30_000)
    p.add_argument("--keys", default=None, help="CURVE key folder (server.key + <key-name>.key_secret) for a server run with --curve")
    p.add_argument("--key-name", default="client", help="which client pair in --keys to use (default: client)")
    args = p.parse_args(argv)
    try:
        if args.command == "hello":
            with PbrlConnection(args.endpoint, args.timeout_ms, keys=args.keys, key_name=args.key_name) as c:
                print(json.dumps(c.hello(), indent=2))
        elif args.command == "rollout":
            _rollout(args)
        else:
            _bench(args)
    except (RemoteError, RemoteTimeout, RemoteAuthError, ValueError) as e:
        print(f"pbrl_client: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
