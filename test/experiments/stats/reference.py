"""Independent numpy implementation of the benchmark statistics (rliable's definitions), used by
stats.test.ts to check experiments/stats. Reads one JSON job on stdin, writes JSON on stdout.

Job: {"data": [[run scores of task 0], ...], "indices": [rep][sample][task] -> run indices,
      "other": second sample (probability of improvement), "taus": [...], "curves":
      [task][run] -> [[x, y], ...] and "grid" (sample efficiency), "confidence": 0.95}
"""
import json
import sys

import numpy as np


def trim_mean(x, prop=0.25):
    x = np.sort(np.asarray(x, dtype=np.float64))
    cut = int(prop * len(x))
    return float(np.mean(x[cut:len(x) - cut]))


def aggregates(tasks):
    task_means = np.array([np.mean(t) for t in tasks])
    pooled = np.concatenate([np.asarray(t, dtype=np.float64) for t in tasks])
    return {
        "iqm": trim_mean(pooled),
        "mean": float(np.mean(task_means)),
        "median": float(np.median(task_means)),
        "optimality_gap": float(1.0 - np.mean(np.minimum(pooled, 1.0))),
    }


def profile(tasks, taus):
    pooled = np.concatenate([np.asarray(t, dtype=np.float64) for t in tasks])
    return [float(np.mean(pooled > tau)) for tau in taus]


def poi(xs, ys):
    vals = []
    for x, y in zip(xs, ys):
        x = np.asarray(x, dtype=np.float64)[:, None]
        y = np.asarray(y, dtype=np.float64)[None, :]
        vals.append(float(np.mean((x > y) + 0.5 * (x == y))))
    return float(np.mean(vals))


def hold(curve, grid):
    xs = np.array([p[0] for p in curve], dtype=np.float64)
    ys = np.array([p[1] for p in curve], dtype=np.float64)
    # index of the last point measured at or before each grid x
    return [float(ys[np.searchsorted(xs, g, side="right") - 1]) for g in grid]


def efficiency(rows, statistic="iqm"):
    # rows[task][run][g]; per grid point: IQM over all runs pooled, or the mean of task means
    n_grid = len(rows[0][0])
    if statistic == "mean":
        return [float(np.mean([np.mean(np.asarray(r, dtype=np.float64)[:, g]) for r in rows])) for g in range(n_grid)]
    return [trim_mean(np.concatenate([np.asarray(r, dtype=np.float64)[:, g] for r in rows])) for g in range(n_grid)]


def take(sample, idx):
    return [[sample[t][i] for i in idx[t]] for t in range(len(sample))]


def interval(point_fn, samples, indices, confidence):
    point = point_fn(*samples)
    reps = [point_fn(*[take(s, rep[k]) for k, s in enumerate(samples)]) for rep in indices]
    tail = 100 * (1 - confidence) / 2
    reps = np.asarray(reps, dtype=np.float64)
    return {"point": point, "lo": np.percentile(reps, tail, axis=0).tolist(), "hi": np.percentile(reps, 100 - tail, axis=0).tolist()}


def main():
    job = json.load(sys.stdin)
    conf = job.get("confidence", 0.95)
    kind = job["kind"]
    idx = job.get("indices", [])
    if kind == "aggregates":
        names = ["iqm", "mean", "median", "optimality_gap"]
        out = interval(lambda d: [aggregates(d)[n] for n in names], [job["data"]], idx, conf)
    elif kind == "profile":
        out = interval(lambda d: profile(d, job["taus"]), [job["data"]], idx, conf)
    elif kind == "poi":
        out = interval(lambda a, b: [poi(a, b)], [job["data"], job["other"]], idx, conf)
    elif kind == "efficiency":
        rows = [[hold(c, job["grid"]) for c in runs] for runs in job["curves"]]
        out = interval(lambda d: efficiency(d, job.get("statistic", "iqm")), [rows], idx, conf)
    elif kind == "auc":
        # trapezoid area over the measured span, divided by the span
        out = []
        for c in job["curves"]:
            x = np.array([p[0] for p in c], dtype=np.float64)
            y = np.array([p[1] for p in c], dtype=np.float64)
            out.append(float(y[-1]) if x[-1] == x[0] else float(np.trapz(y, x) / (x[-1] - x[0])))
    elif kind == "basic":
        x = np.asarray(job["data"][0], dtype=np.float64)
        out = {"median": float(np.median(x)), "p10": float(np.percentile(x, 10)), "p97_5": float(np.percentile(x, 97.5)),
               "trim25": trim_mean(x, 0.25), "trim10": trim_mean(x, 0.1)}
    else:
        raise SystemExit(f"unknown kind {kind}")
    json.dump(out, sys.stdout)


main()
