"""Times the same SAC update as bench/sac-update.ts in PyTorch (CPU) for comparison.

Meta-World sizes: obs 39, act 4, twin critics, tanh-squashed Gaussian actor, learned temperature,
Polyak target every 2 updates. Usage: sac_update_torch.py BUDGET_S [HIDDEN e.g. 256,256,256]
[BATCHES e.g. 256,512] [THREADS] [loop]. Prints one JSON object: {"batch": ms_per_update, ...}.
With `loop`, times a training loop instead: per step the actor picks an action for one observation,
the transition goes into a replay buffer and one update runs on a batch sampled from it (no
environment: its cost is left out), and prints {"batch": env_steps_per_s, ...}.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HIDDEN = [int(h) for h in sys.argv[2].split(",")] if len(sys.argv) > 2 else [256, 256, 256]
BATCHES = [int(b) for b in sys.argv[3].split(",")] if len(sys.argv) > 3 else [256, 512]
THREADS = int(sys.argv[4]) if len(sys.argv) > 4 else 1
torch.set_num_threads(THREADS)
torch.manual_seed(0)
OBS, ACT = 39, 4


def mlp(i, o):
    layers, d = [], i
    for h in HIDDEN:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    return nn.Sequential(*layers, nn.Linear(d, o))


actor = mlp(OBS, 2 * ACT)
q1, q2 = mlp(OBS + ACT, 1), mlp(OBS + ACT, 1)
t1, t2 = mlp(OBS + ACT, 1), mlp(OBS + ACT, 1)
t1.load_state_dict(q1.state_dict())
t2.load_state_dict(q2.state_dict())
log_alpha = torch.tensor(math.log(0.1), requires_grad=True)
aopt = torch.optim.Adam(actor.parameters(), lr=3e-4)
copt = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=3e-4)
alopt = torch.optim.Adam([log_alpha], lr=1e-4)


def sample(obs):
    mu, ls = actor(obs).chunk(2, dim=-1)
    ls = -5 + 0.5 * 7 * (torch.tanh(ls) + 1)
    eps = torch.randn_like(mu)
    u = mu + ls.exp() * eps
    a = torch.tanh(u)
    logp = (-0.5 * eps.pow(2) - ls - 0.5 * math.log(2 * math.pi)).sum(-1, keepdim=True)
    logp = logp - (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1, keepdim=True)
    return a, logp


def update(b, step):
    obs, act, rew, nobs, done = b
    with torch.no_grad():
        na, nlp = sample(nobs)
        sa2 = torch.cat([nobs, na], -1)
        tq = torch.min(t1(sa2), t2(sa2)) - log_alpha.exp() * nlp
        y = rew + 0.99 * (1 - done) * tq
    sa = torch.cat([obs, act], -1)
    closs = F.mse_loss(q1(sa), y) + F.mse_loss(q2(sa), y)
    copt.zero_grad()
    closs.backward()
    copt.step()
    a, lp = sample(obs)
    sa = torch.cat([obs, a], -1)
    aloss = (log_alpha.exp().detach() * lp - torch.min(q1(sa), q2(sa))).mean()
    aopt.zero_grad()
    aloss.backward()
    aopt.step()
    alloss = (log_alpha.exp() * (-lp - (-ACT)).detach()).mean()
    alopt.zero_grad()
    alloss.backward()
    alopt.step()
    if step % 2 == 0:
        with torch.no_grad():
            for net, tgt in ((q1, t1), (q2, t2)):
                for p, tp in zip(net.parameters(), tgt.parameters()):
                    tp.mul_(0.995).add_(0.005 * p)


def loop(bs, budget):
    cap = 100_000
    buf = [torch.zeros(cap, OBS), torch.zeros(cap, ACT), torch.zeros(cap, 1), torch.zeros(cap, OBS), torch.zeros(cap, 1)]
    for t in buf:
        t.normal_()
    size = 2 * bs
    o = torch.randn(1, OBS)
    n, t0 = 0, None
    while True:
        with torch.no_grad():
            a, _ = sample(o)
        nxt = torch.randn(1, OBS)
        k = size % cap
        buf[0][k], buf[1][k], buf[3][k] = o[0], a[0], nxt[0]
        size += 1
        o = nxt
        idx = torch.randint(0, min(size, cap), (bs,))
        update(tuple(t[idx] for t in buf), n)
        n += 1
        if t0 is None and n == 5:  # warm-up done
            n, t0 = 0, time.perf_counter()
        if t0 is not None and n >= 20 and time.perf_counter() - t0 > budget:
            return n / (time.perf_counter() - t0)


def main():
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 1.5
    out = {}
    if len(sys.argv) > 5 and sys.argv[5] == "loop":
        for bs in BATCHES:
            out[str(bs)] = loop(bs, budget)
        out["torch"] = torch.__version__
        out["threads"] = torch.get_num_threads()
        print(json.dumps(out))
        return
    for bs in BATCHES:
        b = (torch.randn(bs, OBS), torch.rand(bs, ACT) * 2 - 1, torch.randn(bs, 1), torch.randn(bs, OBS), torch.zeros(bs, 1))
        for i in range(3):
            update(b, i)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < budget or n < 5:
            update(b, n)
            n += 1
        out[str(bs)] = (time.perf_counter() - t0) / n * 1000
    out["torch"] = torch.__version__
    out["threads"] = torch.get_num_threads()
    print(json.dumps(out))


main()
