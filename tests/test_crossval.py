"""Cross-validated choice of BCGC's design procedure on a short trace (bcgc.design.crossval) and its use
by the out-of-sample comparison (bcgc.peers.holdout)."""

import json

import numpy as np
import pytest

from bcgc.design import design
from bcgc.design.crossval import PROCEDURES, cross_validate
from bcgc.peers.holdout import compare_holdout, split_trace
from bcgc.stragglers import Trace
from bcgc.timing import runtime
from bcgc.timing.orderstat import single_level_blocks

N, L = 8, 240


def _clean(rng, rows):
    return 1.0 + 0.1 * rng.random((rows, N))


def _outlier_trace() -> Trace:
    """10 design rows, one of which has two workers 50× slower; 10 clean held-out rows."""
    rng = np.random.default_rng(1)
    T = _clean(rng, 20)
    T[3, [1, 5]] = 50.0
    return Trace(T)


def _persistent_trace() -> Trace:
    """Worker 2 is 3× slower in every row: structure that recurs (and is tied to a worker)."""
    T = _clean(np.random.default_rng(2), 20)
    T[:, 2] *= 3.0
    return Trace(T)


def _random_slow_trace() -> Trace:
    """Every row has one worker 3× slower, at a random position: recurs, but not tied to a worker."""
    rng = np.random.default_rng(2)
    T = _clean(rng, 20)
    T[np.arange(20), rng.integers(0, N, 20)] *= 3.0
    return Trace(T)


def _by_name(rows):
    return {r.name: r for r in rows}


def _held_out(law, result):
    """E[τ] of a design on the held-out rows of ``law`` (holdout 0.5)."""
    return runtime(result.blocks, split_trace(law, 0.5).test, subset_sizes=result.subset_sizes).mean()


@pytest.fixture(scope="module")
def outlier():
    law = _outlier_trace()
    return law, *compare_holdout(law, N, L, 0.5, samples=2000, seed=0, design_samples=200)


def test_one_outlier_row_is_not_fitted(outlier):
    law, rows, split = outlier
    plain = design(split.train, N, L, seed=0, samples=200)
    uncoded_held_out = split.test.max(axis=1).mean()
    assert _held_out(law, plain) > 1.05 * uncoded_held_out  # the in-sample design over-fits the outlier row
    cv = split.cross_validation
    assert cv.chosen == "uncoded" and cv.level == 0 and np.array_equal(cv.blocks, single_level_blocks(N, L, 0))
    assert cv.folds == cv.rows == 10  # leave-one-out
    r = _by_name(rows)
    assert r["bcgc"].expected_runtime <= r["uncoded"].expected_runtime * (1 + 1e-12)
    assert r["bcgc"].expected_runtime <= r["gc_best"].expected_runtime * (1 + 1e-12)
    assert r["bcgc"].parameters["design"] == cv.label == "cross-validated: uncoded (level 0)"
    assert r["bcgc"].tuned_for == "runtime"
    assert "leave-one-out cross-validation" in split.describe


def test_recurring_structure_keeps_the_optimal_design():
    law = _persistent_trace()
    # 3 folds (4 fits of each procedure, not 11): leave-one-out is test_one_outlier_row_is_not_fitted's
    rows, split = compare_holdout(law, N, L, 0.5, samples=2000, seed=0, design_samples=200, folds=3)
    cv = split.cross_validation
    assert cv.chosen == "optimal" and cv.level is None and cv.subset_sizes is not None  # with its allocation
    assert cv.scores["optimal"] < min(cv.scores["uncoded"], cv.scores["single level"])
    r = _by_name(rows)
    assert r["bcgc"].expected_runtime < 0.5 * r["uncoded"].expected_runtime
    assert r["bcgc"].parameters["design"] == "cross-validated: optimal"
    assert split.as_json()["cross_validation"]["chosen"] == "optimal"


def test_a_slow_worker_at_random_positions_is_not_tied_to_a_worker():
    """An allocation would fit where the slow worker happened to be: the rows show no persistent
    differences (Kruskal-Wallis), so ``optimal`` keeps equal subsets, and it beats a single level and
    the in-sample design with its allocation out of sample; cross-validation sees it on the design
    rows alone."""
    law = _random_slow_trace()
    split = split_trace(law, 0.5)
    cv = cross_validate(split.train, L, folds=3, seed=0, samples=200)  # 3 folds: 4 fits of each, not 11
    assert cv.chosen == "optimal" and cv.subset_sizes is None
    assert cv.scores["optimal"] < cv.scores["single level"] < cv.scores["uncoded"]
    plain = design(split.train, N, L, seed=0, samples=200)  # design() alone: no gate, an allocation
    assert plain.subset_sizes is not None
    single = runtime(single_level_blocks(N, L, 1), split.test).mean()
    assert _held_out(law, cv) < 0.9 * min(_held_out(law, plain), single)


def test_a_fixed_procedure_scores_its_plain_mean_and_fits_nothing():
    """Uncoded has no parameter: its CV score is the mean of T_(N) over every row, whatever the folds."""
    T = _random_slow_trace().samples[:12]
    cv = cross_validate(T, L, folds=4, seed=3, procedures=("uncoded",))
    assert cv.chosen == "uncoded" and np.array_equal(cv.blocks, single_level_blocks(N, L, 0))
    assert cv.scores["uncoded"] == pytest.approx(T.max(axis=1).mean())
    assert list(cv.scores) == ["uncoded"]


def test_same_seed_same_folds_and_choice(outlier):
    law, rows, split = outlier
    a, b = (cross_validate(split.train, L, folds=3, seed=1, samples=100) for _ in range(2))
    assert a.chosen == b.chosen and np.array_equal(a.blocks, b.blocks) and a.scores == b.scores
    T = law.samples[:10]
    f = [cross_validate(T, L, folds=3, seed=s, procedures=("uncoded", "single level")) for s in (7, 7, 8, 9, 10)]
    assert np.array_equal(f[0].fold_of, f[1].fold_of) and f[0].scores == f[1].scores
    assert sorted(np.bincount(f[0].fold_of).tolist()) == [3, 3, 4]
    assert any(not np.array_equal(f[0].fold_of, g.fold_of) for g in f[2:])


def test_pinned_design_is_not_cross_validated():
    law = _persistent_trace()
    x = single_level_blocks(N, L, 1)
    rows, split = compare_holdout(law, N, L, 0.5, samples=500, seed=0, bcgc_blocks=x)
    assert split.cross_validation is None and "design" not in _by_name(rows)["bcgc"].parameters
    assert split.as_json()["cross_validation"] is None


@pytest.mark.parametrize("folds", [1, 0, 11, 2.5, "3"])
def test_bad_folds_are_refused_by_name(folds):
    with pytest.raises(ValueError, match=r"folds.*\[2, 10\]"):
        cross_validate(_outlier_trace().samples[:10], L, folds=folds)


def test_bad_rows_and_procedures_are_refused():
    with pytest.raises(ValueError, match="rows must be a trace with at least 2 rows"):
        cross_validate(np.ones((1, N)), L)
    with pytest.raises(ValueError, match="procedures must be a non-empty subset of uncoded"):
        cross_validate(np.ones((4, N)), L, procedures=("optimal", "magic"))
    with pytest.raises(ValueError, match="procedures"):
        cross_validate(np.ones((4, N)), L, procedures=())
    with pytest.raises(ValueError, match="folds"):
        compare_holdout(_outlier_trace(), N, L, 0.5, samples=500, folds=11)
    assert PROCEDURES[0] == "uncoded"


def _cli(args, capsys):
    from bcgc.cli import main

    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_folds_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "persistent.csv"
    np.savetxt(path, _persistent_trace().samples, delimiter=",")
    base = ["compare", "-N", str(N), "-L", str(L), "-m", f"trace:path={path}", "--samples", "500", "--no-mm"]
    code, out, err = _cli(base + ["--holdout", "0.5", "--folds", "3", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    cv = d["holdout"]["cross_validation"]
    assert cv["folds"] == 3 and cv["rows"] == 10 and set(cv["scores"]) == set(PROCEDURES)
    bcgc = next(s for s in d["schemes"] if s["name"] == "bcgc")
    assert bcgc["parameters"]["design"] == f"cross-validated: {cv['chosen']}"
    code, out, err = _cli(base + ["--holdout", "0.5", "--folds", "11"], capsys)
    assert code == 2 and "folds must be an integer in [2, 10]" in err and err.count("\n") == 1, err
    code, out, err = _cli(base + ["--folds", "3"], capsys)
    assert code == 2 and "--folds needs --holdout" in err, err
    code, out, err = _cli(base + ["--holdout", "0.5", "--folds", "1"], capsys)
    assert code == 2 and "--folds" in err, err
