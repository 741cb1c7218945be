"""Fixed-seed ``--json`` outputs of the CLI, saved and compared: behaviour kept across a refactor.

    python benchmarks/golden.py save DIR      # run every command, write DIR/<name>.json
    python benchmarks/golden.py check DIR     # run again, report every difference from DIR

``benchmarks/golden/`` holds the outputs of the tree after issue 17's refactor (every row the same as
before it, except the rows it added: bcgc_mm under a fixed cost and in simulate, uncoded_split and
gc_split when workers differ, and upload_time 0.0 instead of null under a fixed cost).

Timings (keys ending in ``seconds``) are dropped before comparing; floats compare exactly; rows (lists
of objects with a "name") are matched by name, so a new row reads "only in after".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SE = "shifted-exponential:shift=0.1,rate=1"
AFF = "affine:a=0.5;b=shifted-exponential:shift=1,rate=2"
HET = "heterogeneous:6*shifted-exponential:shift=1,rate=1;2*shifted-exponential:shift=2.5,rate=0.4"
PAI = "trace:name=alibaba-pai-job2"
COMMANDS = {
    "design_se": ["design", "-N", "20", "--coords", "10000", "-m", SE],
    "design_deadline": [
        "design",
        "-N",
        "12",
        "--coords",
        "1000",
        "-m",
        SE,
        "--objective",
        "deadline",
        "--deadline",
        "3",
    ],
    "design_pai": ["design", "-N", "10", "--coords", "650", "-m", PAI],
    "design_het": ["design", "-N", "8", "--coords", "1000", "-m", HET],
    "design_links": ["design", "-N", "10", "--coords", "1000", "-m", SE, "--bandwidth", "20000", "--latency", "0.01"],
    "evaluate_se": ["evaluate", "-N", "4", "-m", SE, "--blocks", "100,50,0,10", "--deadline", "2"],
    "evaluate_sizes": ["evaluate", "-N", "4", "-m", SE, "--blocks", "100,50,0,10", "--subset-sizes", "0.4,0.3,0.2,0.1"],
    "evaluate_aff": ["evaluate", "-N", "4", "-m", AFF, "--blocks", "100,50,0,10"],
    "compare_free": ["compare", "-N", "12", "--coords", "1000", "-m", SE, "--samples", "20000"],
    "compare_pareto": [
        "compare",
        "-N",
        "10",
        "--coords",
        "1000",
        "-m",
        "pareto:scale=1,shape=2.5",
        "--samples",
        "20000",
    ],
    "compare_fixed": ["compare", "-N", "10", "--coords", "1000", "-m", AFF, "--samples", "20000"],
    "compare_links": [
        "compare",
        "-N",
        "10",
        "--coords",
        "1000",
        "-m",
        SE,
        "--samples",
        "20000",
        "--bandwidth",
        "20000",
        "--latency",
        "0.01",
    ],
    "compare_holdout": ["compare", "-N", "10", "--coords", "1000", "-m", PAI, "--holdout", "0.5", "--samples", "20000"],
    "compare_deadline": ["compare", "-N", "10", "--coords", "1000", "-m", SE, "--samples", "20000", "--deadline", "3"],
    "compare_het": ["compare", "-N", "8", "--coords", "1000", "-m", HET, "--samples", "20000"],
    "simulate_all": ["simulate", "-N", "6", "-m", SE, "--iterations", "8", "--max-samples", "300"],
    "simulate_het": [
        "simulate",
        "-N",
        "6",
        "-m",
        "heterogeneous:4*shifted-exponential:shift=1,rate=1;2*shifted-exponential:shift=2.5,rate=0.4",
        "--iterations",
        "5",
        "--max-samples",
        "300",
    ],
    "recommend_links": [
        "recommend",
        "-N",
        "10",
        "--coords",
        "1000",
        "-m",
        "pareto:scale=1,shape=2.5",
        "--bandwidth",
        "20000",
        "--latency",
        "0.01",
    ],
    "recommend_free": ["recommend", "-N", "10", "--coords", "1000", "-m", SE],
}


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if not k.endswith("seconds") and k != "elapsed"}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def run(name: str) -> dict:
    bcgc = str(Path(sys.executable).with_name("bcgc"))
    out = subprocess.run([bcgc, *COMMANDS[name], "--json"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"returncode": out.returncode, "stderr": out.stderr.strip().splitlines()[-1:]}
    return _strip(json.loads(out.stdout))


def _diff(a, b, path="$"):
    if type(a) is not type(b):
        yield f"{path}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                yield f"{path}.{k}: only in {'before' if k in a else 'after'}"
            else:
                yield from _diff(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and a and all(isinstance(v, dict) and "name" in v for v in a + b):
        yield from _diff({v["name"]: v for v in a}, {v["name"]: v for v in b}, path)  # rows, by scheme name
    elif isinstance(a, list):
        if len(a) != len(b):
            yield f"{path}: length {len(a)} != {len(b)}"
        for i, (u, v) in enumerate(zip(a, b)):
            yield from _diff(u, v, f"{path}[{i}]")
    elif a != b:
        yield f"{path}: {a!r} != {b!r}"


def main(argv: list[str]) -> int:
    mode, folder = argv[0], Path(argv[1])
    names = argv[2:] or list(COMMANDS)
    folder.mkdir(parents=True, exist_ok=True)
    bad = 0
    for name in names:
        got = run(name)
        path = folder / f"{name}.json"
        if mode == "save":
            path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
            print(f"saved {name}")
            continue
        diffs = list(_diff(json.loads(path.read_text()), got))
        bad += bool(diffs)
        print(f"{name}: {'same' if not diffs else f'{len(diffs)} differences'}")
        for d in diffs[:10]:
            print("   ", d)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
