"""One registry (bcgc.schemes): a peer written in one module appears in compare, simulate and train."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from bcgc import schemes
from bcgc.analysis import evaluate_runtime
from bcgc.peers import compare
from bcgc.problems import load_dataset, make_problem
from bcgc.runtime import train
from bcgc.schemes.gc import classic_gc
from bcgc.simulate import simulate_all
from bcgc.stragglers import ShiftedExponential

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "two_replicas.py"
LAW = ShiftedExponential(0.1, 1.0)


@pytest.fixture
def two_replicas():
    """Import the documented example module (which registers its scheme), remove it afterwards."""
    spec = importlib.util.spec_from_file_location("two_replicas_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module.SCHEME
    schemes.unregister("two_replicas")


def test_the_example_peer_is_a_compare_row_evaluated_exactly(two_replicas):
    # BCGC's design is given: only the example peer's row is asserted on
    rows = {r.name: r for r in compare(LAW, 6, 600, samples=4000, seed=1, bcgc_blocks=[600, 0, 0, 0, 0, 0])}
    assert list(rows)[-2:] == ["two_replicas", "oracle"]  # a scheme of one's own goes before the bound
    row = rows["two_replicas"]
    exact = evaluate_runtime(LAW, 6, classic_gc(1)).expected_runtime  # (s + 1) E[T_(N-1)], s = 1
    assert row.evaluation.method == "exact" and row.expected_runtime == pytest.approx(exact, rel=1e-12)
    assert row.parameters["blocks"] == [0, 600, 0, 0, 0, 0] and row.upload_per_worker == 600


@pytest.mark.parametrize(
    "kw", [{"bandwidth": 2000.0, "latency": 0.05}, {"model": "affine:a=0.5;b=shifted-exponential:shift=1,rate=2"}]
)
def test_the_example_peer_is_compared_under_links_and_a_fixed_cost(two_replicas, kw):
    law = kw.pop("model", LAW)
    # level 1 for every coordinate is classic GC at level 1: in one compare (no design made), the bcgc
    # row given that design and the example peer's row time the same draws, the same τ
    rows = {r.name: r for r in compare(law, 6, 600, samples=4000, seed=1, bcgc_blocks=[0, 600, 0, 0, 0, 0], **kw)}
    assert math.isfinite(rows["two_replicas"].expected_runtime)
    assert rows["two_replicas"].expected_runtime == pytest.approx(rows["bcgc"].expected_runtime, rel=1e-12)


def test_the_example_peer_runs_in_the_simulator_and_on_threads(two_replicas):
    problem = make_problem("least-squares", load_dataset("digits", samples=300, seed=0), 6)
    (sim,) = simulate_all(problem, LAW, ["two_replicas"], iterations=4)
    assert sim.parameters["blocks"][1] == problem.L and sim.max_gradient_error < 1e-12
    assert np.allclose(sim.iteration_times, sim.predicted_times, rtol=1e-12)
    (res,) = train(problem, LAW, ("two_replicas",), iterations=3, unit=0.005, backend="threads")
    assert res.name == "two_replicas" and len(res.logs) == 3
    assert res.summary()["max_gradient_error"] <= 1e-9


def test_the_registry_refuses_a_second_scheme_of_a_name_and_names_its_choices(two_replicas):
    with pytest.raises(ValueError, match="registered already"):
        schemes.register(type(two_replicas)())
    with pytest.raises(ValueError, match="scheme must be one of .*two_replicas"):
        schemes.get("no-such-scheme")


def test_every_built_in_scheme_is_registered_once_in_compare_order():
    assert schemes.names()[:11] == (
        "bcgc",
        "uncoded",
        "uncoded_split",
        "gc",
        "gc_split",
        "tandon_partial",
        "ferdinand_r_L",
        "ferdinand_r_L2",
        "ucmmc",
        "ignore_stragglers",
        "oracle",
    )
    assert set(schemes.runnable()) >= {"bcgc", "gc", "uncoded", "ucmmc", "bcgc_mm"}
    assert schemes.by_label("gc_best").name == "gc" and schemes.by_label("ucmmc_best").name == "ucmmc"
