"""Times the reward side of a PEBBLE round in PyTorch (CPU) for bench/reward.ts, as B-Pref's code does it.

Ensemble of 3 separate MLPs 43-256-256-256-1 (LeakyReLU 0.01, tanh output), Bradley-Terry loss on
128 pairs of 50-step segments per member, one Adam step; relabelling N transitions in chunks of
CHUNK rows with the ensemble mean. Usage: reward_torch.py BUDGET_S N CHUNK [THREADS].
Prints one JSON object: {"update_ms": ..., "relabel_s_per_1e6": ...}.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BUDGET = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
CHUNK = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
THREADS = int(sys.argv[4]) if len(sys.argv) > 4 else 1
torch.set_num_threads(THREADS)
torch.manual_seed(0)
D, E, P, L = 43, 3, 128, 50


def net():
    return nn.Sequential(nn.Linear(D, 256), nn.LeakyReLU(), nn.Linear(256, 256), nn.LeakyReLU(),
                         nn.Linear(256, 256), nn.LeakyReLU(), nn.Linear(256, 1), nn.Tanh())


members = [net() for _ in range(E)]
opt = torch.optim.Adam([p for m in members for p in m.parameters()], lr=3e-4)
segs = torch.rand(1000, L, D) * 2 - 1
labels = (torch.rand(E, P) < 0.5).float()


def update():
    loss = 0
    for e, m in enumerate(members):
        idx = torch.randint(0, 1000, (2 * P,))
        x = segs[idx]  # [2P, L, D]
        ret = m(x).sum(dim=(1, 2)).view(2, P)
        loss = loss + F.binary_cross_entropy_with_logits(ret[0] - ret[1], labels[e])
    opt.zero_grad()
    loss.backward()
    opt.step()


def timed(fn, budget, min_iters=3):
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < budget or n < min_iters:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


obs = torch.rand(N, D) * 2 - 1


def relabel():
    out = torch.empty(N)
    with torch.no_grad():
        for s in range(0, N, CHUNK):
            x = obs[s:s + CHUNK]
            out[s:s + CHUNK] = torch.stack([m(x).squeeze(-1) for m in members]).mean(0)
    return out


upd = timed(update, BUDGET) * 1000
rel = timed(relabel, BUDGET, 2) * 1e6 / N
print(json.dumps({"update_ms": upd, "relabel_s_per_1e6": rel, "torch": torch.__version__, "threads": torch.get_num_threads()}))
