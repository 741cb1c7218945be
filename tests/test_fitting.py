"""bcgc.fitting: maximum likelihood with censoring, AIC choice, the persistence test, the
fixed-cost fit from several loads, training-log fits and predicted quantiles (docs/fitting.md)."""

import json

import numpy as np
import pytest

from bcgc.fitting import choose, fit_loads, fit_log, fit_trace, mle, predicted_quantiles, read_log
from bcgc.stragglers import FixedCost, Heterogeneous, parse_model

FAST = ("shifted-exponential", "lognormal", "weibull")


@pytest.mark.parametrize(
    "text, tol",
    [
        ("weibull:scale=2,shape=3", 0.05),
        ("lognormal:mu=0.5,sigma=0.3", 0.05),
        ("shifted-exponential:shift=1,rate=2", 0.06),
    ],
)
def test_maximum_likelihood_recovers_known_parameters(text, tol):
    law = parse_model(text)
    fitted = mle(law.name, law.sample(4000, 1, seed=3))
    for name in law.params():
        truth, got = getattr(law, name), getattr(fitted, name)
        assert abs(got - truth) <= tol * max(abs(truth), 0.1), (name, truth, got)


@pytest.mark.parametrize(
    "text",
    [
        "shifted-exponential:shift=1,rate=2",
        "lognormal:mu=0.5,sigma=0.3",
        "weibull:scale=2,shape=3",
        "pareto:scale=1,shape=2.5",
        "bimodal:shift=1,rate=4,factor=3,prob=0.2",
    ],
)
def test_aic_picks_the_true_family(text):
    law = parse_model(text)
    chosen, table = choose(law.sample(1500, 1, seed=11))
    assert type(chosen).name == law.name, table
    assert [r["aic"] for r in table] == sorted(r["aic"] for r in table)


def test_persistence_test_finds_persistent_differences_and_not_iid_ones():
    slow = parse_model("heterogeneous:6*lognormal:mu=0,sigma=0.2;2*lognormal:mu=0.4,sigma=0.2")
    het = fit_trace(slow.sample(60, 8, seed=1), families=FAST)
    assert het.report["persistence"]["differ"] and het.report["persistence"]["p_value"] < 1e-6
    assert isinstance(het.model, Heterogeneous) and len(het.model.laws) == 8
    mus = [law.mu for law in het.model.laws]
    assert max(mus[:6]) < min(mus[6:])
    iid = fit_trace(parse_model("lognormal:mu=0,sigma=0.2").sample(60, 8, seed=1), families=FAST)
    assert not iid.report["persistence"]["differ"] and iid.report["persistence"]["p_value"] > 0.05
    assert iid.spec.startswith("lognormal:")
    assert parse_model(het.spec).spec == het.spec


def test_censored_fit_beats_the_naive_fit_on_censored_data():
    law = parse_model("weibull:scale=2,shape=3")
    t = law.sample(3000, 1, seed=5).ravel()
    cut = 2.2  # about 40 % of the workers are cancelled at 2.2
    seen, censored = np.minimum(t, cut), t > cut
    fitted = mle("weibull", seen, censored)
    naive = mle("weibull", seen)  # takes the cancel times for finishing times
    assert abs(fitted.scale - 2) < 0.05 and abs(fitted.shape - 3) < 0.15
    assert abs(naive.scale - 2) > 3 * abs(fitted.scale - 2)


def test_fixed_cost_fit_recovers_b_and_predicts_an_intermediate_load():
    a = parse_model("shifted-exponential:shift=1,rate=5")
    b = parse_model("lognormal:mu=-1,sigma=0.3")
    truth = FixedCost(a, b)
    parts = truth.sample_parts(40, 20, seed=2)
    zero = a.sample(40, 20, seed=9)
    one = parts[0] + parts[1]
    fit = fit_loads([zero, one], [0, 1], families=("lognormal", "shifted-exponential"))
    assert fit.report["b_family"] == "lognormal"
    assert abs(fit.model.rate.mu + 1) < 0.05 and abs(fit.model.rate.sigma - 0.3) < 0.05
    ap, bp = truth.sample_parts(200, 100, seed=4)
    observed = np.percentile(ap + 0.5 * bp, np.arange(10, 91))
    predicted = predicted_quantiles(fit.model, 0.5)[9:90]
    assert np.max(np.abs(predicted / observed - 1)) < 0.03


def test_fixed_cost_fit_refuses_bad_loads_by_name():
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match="loads must include 0"):
        fit_loads([x, 2 * x], [0.5, 1])
    with pytest.raises(ValueError, match="one load per trace"):
        fit_loads([x, 2 * x], [0])
    with pytest.raises(ValueError, match="same workers"):
        fit_loads([x, np.ones((3, 3))], [0, 1])


@pytest.mark.parametrize(
    "law",
    [
        "weibull:scale=1,shape=2",
        "heterogeneous:2*lognormal:mu=0,sigma=0.3;1*pareto:scale=1,shape=3",
        "affine:a=0.5;b=exponential:rate=2",
        "shifted-exponential:shift=1,rate=1,full=0.001",
    ],
)
def test_predict_gives_99_increasing_quantiles(law):
    q = predicted_quantiles(parse_model(law), 2.0)
    assert q.shape == (99,) and np.all(np.diff(q) > 0) and np.all(np.isfinite(q))


def test_predict_without_fixed_cost_scales_with_the_load():
    law = parse_model("weibull:scale=1,shape=2")
    assert np.allclose(predicted_quantiles(law, 3.0), 3 * law.ppf(np.arange(1, 100) / 100))
    with pytest.raises(ValueError, match="load W"):
        predicted_quantiles(law, -1)


def synthetic_log(path, a=0.5, b="weibull:scale=1,shape=2", iterations=150, workers=6, keep=4):
    """A training log from a known law: blocks of work 1, 2, 3; after ``keep`` workers finish the
    master cancels the others (their next observation is censored at the cancel time)."""
    law = parse_model(b)
    lines = []
    for k in range(iterations):
        bb = law.sample(1, workers, seed=k)[0]
        fixed = np.broadcast_to(np.asarray(a, dtype=float), (workers,))
        cut = np.sort(fixed + 3 * bb)[keep - 1]
        obs = []
        for n in range(workers):
            for w in (1, 2, 3):
                t = fixed[n] + bb[n] * w
                obs.append([n, w, float(min(t, cut)), int(t > cut)])
                if t > cut:
                    break
        lines.append(json.dumps({"iteration": k, "observations": obs}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_log_fit_recovers_the_fixed_cost_and_b(tmp_path):
    obs = read_log(synthetic_log(tmp_path / "run.jsonl"))
    assert obs[:, 3].sum() > 0
    fit = fit_log(obs, families=("weibull", "lognormal"))
    assert isinstance(fit.model, FixedCost)
    assert abs(fit.model.fixed - 0.5) < 0.05
    assert abs(fit.model.rate.scale - 1) < 0.05 and abs(fit.model.rate.shape - 2) < 0.2
    assert not fit.report["persistence"]["differ"]
    naive = fit_log(np.column_stack([obs[:, :3], np.zeros(len(obs))]), families=("weibull",))
    assert abs(naive.model.rate.scale - 1) > 2 * abs(fit.model.rate.scale - 1)


@pytest.mark.parametrize(
    "line, words",
    [
        ('{"observations": [[0, 1, -2, 0]]}', "observation must be"),
        ('{"observations": [[0, 1, 2]]}', "observation must be"),
        ('{"observations": [[0.5, 1, 2, 0]]}', "observation must be"),
        ("not json", "is not JSON"),
        ('{"loss": 1}', "holds no observations"),
    ],
)
def test_bad_logs_are_refused_by_name(tmp_path, line, words):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ValueError, match=words):
        read_log(path)


def test_log_fit_finds_per_worker_fixed_costs_when_workers_differ(tmp_path):
    fixed = [0.2, 0.2, 0.2, 1.0, 1.0, 1.0]
    b = "heterogeneous:3*weibull:scale=1,shape=2;3*weibull:scale=0.5,shape=2"
    obs = read_log(synthetic_log(tmp_path / "run.jsonl", a=fixed, b=b, iterations=200))
    fit = fit_log(obs, families=("weibull",))
    assert fit.report["persistence"]["differ"]
    assert isinstance(fit.model, Heterogeneous) and all(isinstance(p, FixedCost) for p in fit.model.laws)
    assert np.allclose([p.fixed for p in fit.model.laws], fixed, atol=0.1)
    assert np.allclose([p.rate.scale for p in fit.model.laws], [1, 1, 1, 0.5, 0.5, 0.5], atol=0.1)
    again = parse_model(fit.spec)
    assert again.spec == fit.spec
    a, bb = again.sample_parts(50, 6, seed=0)
    assert np.allclose(a + bb, again.sample(50, 6, seed=0)) and np.all(a[:, 3:] > a[:, :3])


def test_predict_heterogeneous_fixed_cost_matches_monte_carlo():
    law = parse_model("heterogeneous:2*affine:a=0.5;b=exponential:rate=1;2*affine:a=1;b=weibull:scale=1,shape=2")
    a, b = law.sample_parts(20000, 4, seed=1)
    observed = np.percentile(a + 0.5 * b, np.arange(10, 91))
    assert np.max(np.abs(predicted_quantiles(law, 0.5)[9:90] / observed - 1)) < 0.01


def test_predict_a_mixture_with_a_full_straggler_worker_stays_finite_where_it_should():
    law = parse_model("heterogeneous:3*exponential:rate=1;1*exponential:rate=1,full=0.5")
    q = predicted_quantiles(law, 1.0)
    # 12.5 % of a randomly picked worker's times are inf: the top 12 percentiles are inf, not the rest
    assert np.all(np.isfinite(q[:87])) and np.all(np.isinf(q[88:])) and np.all(np.diff(q[:87]) > 0)
