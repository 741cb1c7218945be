"""`bcgc train` on a Ray cluster of several nodes on this machine (``ray.cluster_utils.Cluster``,
with token authentication on, as `ray start --head` has it): one worker per node (1-CPU nodes,
``--cpus-per-worker 1``), two nodes killed mid-run (their processes SIGKILLed: lost machines): the
first the design tolerates, the second forces a re-design (one run covers both, so the cluster trains once).

The cluster runs in a subprocess (this file run as a script): the rest of the suite shares one
local Ray per session (``ray_session``), and a process holds one Ray connection at a time."""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

WORKERS = 4
ITERATIONS = 16
TOLERATE = 1
LOSSES = (2, 6)  # a node is removed once this many iterations are logged: the first tolerated, the second not
# a lost node is declared dead within ~1 s instead of Ray's default tens of seconds
FAST_DEATH = {
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 200,
    "health_check_timeout_ms": 500,
    "health_check_failure_threshold": 3,
}


def _events(path: Path) -> list:
    """The log's events: while the run goes, from its temporary file beside ``path`` (``--log`` is
    moved onto ``path`` only when the run ends well)."""
    live = sorted(path.parent.glob(f".{path.name}.*.tmp"))
    path = live[0] if live else path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def _logged(log: Path, iterations: int, deaths: int) -> bool:
    kinds = [e["event"] for e in _events(log)]
    return kinds.count("iteration") >= iterations and kinds.count("death") >= deaths


def _remove_nodes_mid_run(cluster, nodes, log: Path, seen: dict):
    """Once ``LOSSES[i]`` iterations (and ``i`` deaths) are logged, remove ``nodes[i]`` (before the first: note
    how the workers are placed)."""
    import ray

    deadline = time.monotonic() + 120
    for i, (node, after) in enumerate(zip(nodes, LOSSES)):
        # the second node goes only once the first one's death is logged, so the two losses stay apart
        while not _logged(log, after, deaths=i) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not i:
            seen["free_cpus_before"] = ray.available_resources().get("CPU", 0.0)
            seen["cpus"] = ray.cluster_resources().get("CPU", 0.0)
        seen.setdefault("removed_after", []).append(sum(e["event"] == "iteration" for e in _events(log)))
        cluster.remove_node(node, allow_graceful=False)


def _train(cluster, nodes, address: str, log: Path) -> dict:
    from bcgc.cli import main

    seen: dict = {}
    watcher = threading.Thread(target=_remove_nodes_mid_run, args=(cluster, nodes, log, seen), daemon=True)
    watcher.start()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "train",
                "-N",
                str(WORKERS),
                "-m",
                "shifted-exponential:shift=0.1,rate=1",
                "--dataset",
                "synthetic",
                "--max-samples",
                "400",
                "--scheme",
                "bcgc",
                "--iterations",
                str(ITERATIONS),
                "--unit",
                "0.1",
                "--tolerate",
                str(TOLERATE),
                "--backend",
                "ray",
                "--address",
                address,
                "--cpus-per-worker",
                "1",
                "--log",
                str(log),
                "--json",
            ]
        )
    watcher.join(timeout=30)
    # Ray's driver may print a lost raylet's last log lines to sys.stdout too: keep the JSON line
    lines = [line for line in out.getvalue().splitlines() if line.startswith('{"workers"')]
    return {
        "code": code,
        "summary": json.loads(lines[-1])["schemes"][0] if lines else None,
        "events": [e for e in _events(log) if e["event"] != "iteration"],
        **seen,
    }


def _train_without_token(address: str) -> dict:
    """`bcgc train --address HOST:PORT` from a process without RAY_AUTH_MODE=token."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bcgc.cli",
            "train",
            "-N",
            str(WORKERS),
            "-m",
            "shifted-exponential:shift=1,rate=1",
            "--iterations",
            "1",
            "--address",
            address,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {"code": run.returncode, "stderr": run.stderr}


def cluster_main(out_dir: Path) -> None:
    """Head (no CPU: only the master's objects) and one 1-CPU node per worker; one run loses two of them."""
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "_system_config": FAST_DEATH})
    try:
        nodes = [cluster.add_node(num_cpus=1) for _ in range(WORKERS)]
        results = {"without_token": _train_without_token(cluster.address)}
        results["lost"] = _train(cluster, nodes[1:3], cluster.address, out_dir / "lost.jsonl")
        (out_dir / "results.json").write_text(json.dumps(results))
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="module")
def cluster_results(tmp_path_factory):
    pytest.importorskip("ray")
    out = tmp_path_factory.mktemp("cluster")
    # its own Ray temp dir: the cluster's address file must not capture other processes' ray.init()
    # (a short path: Ray's socket names must fit in 107 bytes)
    ray_tmp = tempfile.mkdtemp(prefix="bcgc-ray-")
    # token authentication on, as `ray start --head` has it by default, with a token of its own
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env |= {"RAY_TMPDIR": ray_tmp, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    # its own session: on a timeout the whole process group (every Ray process it started) is killed
    proc = subprocess.Popen(
        [sys.executable, __file__, str(out)],
        start_new_session=True,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        output, _ = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    path = out / "results.json"
    assert proc.returncode == 0 and path.exists(), f"cluster run failed (exit {proc.returncode}):\n{output[-4000:]}"
    return json.loads(path.read_text())


def test_one_worker_per_node_and_lost_nodes_tolerated_then_redesigned(cluster_results):
    r = cluster_results["lost"]
    assert r["code"] == 0 and r["cpus"] == WORKERS and r["free_cpus_before"] == 0  # one worker on each 1-CPU node
    s = r["summary"]
    assert s["iterations"] == ITERATIONS and s["redesigns"] >= 1 and s["max_gradient_error"] <= 1e-9
    assert len(r["removed_after"]) == 2 and r["removed_after"][-1] < ITERATIONS  # both nodes went mid-run
    kinds = [e["event"] for e in r["events"]]
    first, second = [i for i, k in enumerate(kinds) if k == "death"]  # each lost node's worker is dead
    # the first loss is within the design's tolerance (no re-design); the second is not
    assert "redesign" not in kinds[first:second] and "redesign" in kinds[second:]


def test_without_the_token_the_cluster_refuses_in_one_clear_line(cluster_results):
    r = cluster_results["without_token"]
    err = r["stderr"].strip().splitlines()
    assert r["code"] == 2 and len(err) == 1 and "requires token authentication" in err[0]
    assert "RAY_AUTH_MODE=token" in err[0] and "--address auto" in err[0]


def test_cpus_per_worker_must_be_a_finite_number_at_least_zero(capsys):
    from bcgc.cli import main

    for bad in ("-1", "inf", "two"):
        code = main(["train", "-N", "4", "-m", "shifted-exponential:shift=1,rate=1", "--cpus-per-worker", bad])
        assert code == 2 and "--cpus-per-worker must be a finite number >= 0" in capsys.readouterr().err


if __name__ == "__main__":
    cluster_main(Path(sys.argv[1]))
