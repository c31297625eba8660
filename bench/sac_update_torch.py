"""Times the same SAC update as bench/sac-update.ts in PyTorch (CPU, 1 thread) for comparison.

Meta-World sizes: obs 39, act 4, 3x256 hidden, twin critics, tanh-squashed Gaussian actor, learned
temperature, Polyak target every 2 updates. Prints one JSON object: {"batch": ms_per_update, ...}.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)
OBS, ACT, H = 39, 4, 256


def mlp(i, o):
    return nn.Sequential(nn.Linear(i, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, o))


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


def main():
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 1.5
    out = {}
    for bs in (256, 512):
        b = (torch.randn(bs, OBS), torch.rand(bs, ACT) * 2 - 1, torch.randn(bs, 1), torch.randn(bs, OBS), torch.zeros(bs, 1))
        for i in range(3):
            update(b, i)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < budget or n < 5:
            update(b, n)
            n += 1
        out[str(bs)] = (time.perf_counter() - t0) / n * 1000
    out["torch"] = torch.__version__
    out["blas"] = torch.__config__.show().count("OpenBLAS") > 0
    print(json.dumps(out))


main()
