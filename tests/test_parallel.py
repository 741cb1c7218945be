"""The reproduce pages' process runner (bcgc.experiments.parallel): results, progress, and every way a
run can stop with every worker stopped (tests/test_reproduce.py checks the pages' numbers)."""

import os
import signal
import time

import pytest

from bcgc.experiments.parallel import run_pages


def _page(x, progress=None):
    progress(f"page {x}")
    return x * x


def _failing(path, progress=None):  # once the slow page runs
    while not os.path.exists(path):
        time.sleep(0.01)
    raise ValueError("this page fails")


def _killed(progress=None):
    os.kill(os.getpid(), signal.SIGKILL)


def _slow(path, progress=None):  # writes its pid, then runs until stopped
    with open(path, "w") as fh:
        fh.write(str(os.getpid()))
    while True:
        progress("still here")
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_every_page_result_and_message_comes_back_in_the_pages_order():
    seen = []
    got = run_pages({f"p{i}": (_page, (i,)) for i in range(5)}, jobs=2, progress=seen.append)
    assert list(got.items()) == [(f"p{i}", i * i) for i in range(5)]
    assert sorted(seen) == [f"page {i}" for i in range(5)]


def test_a_page_error_is_raised_here_and_stops_the_other_workers(tmp_path):
    pid_file = tmp_path / "pid"
    with pytest.raises(ValueError, match="this page fails"):
        run_pages({"slow": (_slow, (str(pid_file),)), "bad": (_failing, (str(pid_file),))}, jobs=2)
    assert _gone(int(pid_file.read_text()))


def test_a_killed_worker_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="died"):
        run_pages({"a": (_killed, ()), "b": (_page, (1,))}, jobs=2, progress=lambda msg: None)


def test_an_interruption_here_stops_every_worker(tmp_path):
    pid_file = tmp_path / "pid"

    def progress(msg):  # Ctrl-C once the slow page runs
        if msg == "still here":
            raise KeyboardInterrupt(msg)

    with pytest.raises(KeyboardInterrupt):
        run_pages({"slow": (_slow, (str(pid_file),)), "other": (_page, (2,))}, jobs=2, progress=progress)
    assert _gone(int(pid_file.read_text()))
