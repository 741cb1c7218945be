"""Replay and --adapt on real traces (docs/runtime.md, "What the workers experience"). One command:

    python benchmarks/adapt.py [TRACES_FOLDER] [--backend threads|ray]

TRACES_FOLDER holds alibaba-pai-job1.csv, alibaba-pai-job2.csv and
lambda-sydney-b256-load1.000.csv (default: ../shared/traces). Each run is one ``bcgc train``
(N = 10, least squares on 400 synthetic rows with 40 features, --unit 0.05, under a minute):

1. replay alibaba-pai-job2 (workers differ persistently), 60 iterations: --adapt 5 --window 10
   against --model trace:path=<the trace> (its design with unequal subsets, and with
   --equal-subsets) and against a wrong i.i.d. law (exponential:rate=1);
   mean iteration seconds over the second half, measured and predicted;
2. a law changing half-way: 40 rows of the Sydney load-1 trace (10 of its workers a row) then 40 of
   alibaba-pai-job2, each part divided by its median (written to a temporary folder): --adapt against
   runs designed for each part, iterations 50-79 (after the change and one window);
3. per-worker fixed costs and rates fitted on the runtime against the injected ones, for a
   fixed-cost law and a replayed trace split 30 % fixed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from bcgc.stragglers.empirical import read_trace

COMMON = [
    "--dataset",
    "synthetic",
    "--max-samples",
    "400",
    "--features",
    "40",
    "--scheme",
    "bcgc",
    "--unit",
    "0.05",
    "--json",
]


def run(args, backend, tmp, tag):
    log = os.path.join(tmp, f"{tag}.jsonl")
    cmd = COMMON + ["--backend", backend, "--log", log] + args
    print("$ bcgc train " + " ".join(cmd), flush=True)
    subprocess.run([sys.executable, "-m", "bcgc.cli", "train", *cmd], check=True, capture_output=True)
    return [r for r in map(json.loads, open(log)) if r["event"] == "iteration"]


def col(recs, key, lo=0, hi=None):
    return float(np.mean([r[key] for r in recs[lo:hi]]))


def stacked(folder, tmp):
    sy = read_trace(os.path.join(folder, "lambda-sydney-b256-load1.000.csv"))[:, :250].reshape(-1, 10)[:40]
    j2 = read_trace(os.path.join(folder, "alibaba-pai-job2.csv"))[:40]
    parts = [sy / np.median(sy), j2 / np.median(j2)]
    paths = [os.path.join(tmp, n) for n in ("first.csv", "second.csv", "stacked.csv")]
    for path, rows in zip(paths, (parts[0], parts[1], np.vstack(parts))):
        np.savetxt(path, rows, delimiter=",", fmt="%.6g")
    return paths


def fit_errors(recs):
    ea, ta, eb, tb = [], [], [], []
    for r in recs:
        u = r["injected"]["unit"]
        for n, (x, y) in enumerate(zip(r["estimated"]["a"], r["estimated"]["b"])):
            if x is not None:
                ea.append(x), eb.append(y), ta.append(r["injected"]["a"][n] * u), tb.append(r["injected"]["b"][n] * u)
    ea, ta, eb, tb = map(np.array, (ea, ta, eb, tb))
    da, db = np.abs(ea - ta) * 1e3, np.abs(eb - tb) / tb
    return (
        f"{len(ea)} worker-iterations fitted; |a error| median {np.median(da):.2f} ms (p95 {np.percentile(da, 95):.2f}),"
        f" |b error|/b median {np.median(db):.4f} (p95 {np.percentile(db, 95):.4f})"
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("traces", nargs="?", default=os.path.join("..", "shared", "traces"))
    p.add_argument("--backend", default="threads", choices=("threads", "ray"))
    a = p.parse_args()
    job2, job1 = (os.path.join(a.traces, f"alibaba-pai-job{k}.csv") for k in (2, 1))
    with tempfile.TemporaryDirectory() as tmp:
        base = ["-N", "10", "--iterations", "60", "--stragglers", f"replay:path={job2}"]
        out = {
            tag: run(base + extra, a.backend, tmp, tag)
            for tag, extra in (
                ("adapt", ["--adapt", "5", "--window", "10"]),
                ("trace", ["--model", f"trace:path={job2}"]),
                ("equal", ["--model", f"trace:path={job2}", "--equal-subsets"]),
                ("wrong", ["--model", "exponential:rate=1"]),
            )
        }
        for tag, recs in out.items():
            print(
                f"  {tag:<6} second half: measured {col(recs, 'measured_seconds', 30):.4f} s, predicted "
                f"{col(recs, 'predicted_seconds', 30):.4f} s, max gradient error "
                f"{max(r['gradient_error'] for r in recs):.2g}"
            )
        first, second, both = stacked(a.traces, tmp)
        base = ["-N", "10", "--iterations", "80", "--stragglers", f"replay:path={both}"]
        out = {
            tag: run(base + extra, a.backend, tmp, tag)
            for tag, extra in (
                ("adapt", ["--adapt", "5", "--window", "10"]),
                ("first", ["--model", f"trace:path={first}"]),
                ("second", ["--model", f"trace:path={second}"]),
            )
        }
        for tag, recs in out.items():
            print(
                f"  {tag:<6} iterations 50-79: measured {col(recs, 'measured_seconds', 50):.4f} s, predicted "
                f"{col(recs, 'predicted_seconds', 50):.4f} s"
            )
        for tag, extra in (
            ("affine", ["-N", "8", "--stragglers", "affine:a=0.5;b=shifted-exponential:shift=1,rate=2"]),
            ("split", ["-N", "10", "--stragglers", f"replay:path={job1},fixed=0.3"]),
        ):
            recs = run(
                extra + ["--iterations", "30", "--model", "shifted-exponential:shift=1,rate=1"], a.backend, tmp, tag
            )
            print(f"  {tag}: {fit_errors(recs)}")


if __name__ == "__main__":
    main()
