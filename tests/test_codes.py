"""Gradient codes (docs/model.md, coordinate gradient coding): any N - s responders decode the exact sum; fewer are refused."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bcgc.codes import layout, make_code, probe_sets, worst_condition


@st.composite
def code_and_responders(draw):
    n = draw(st.integers(2, 32))
    s = draw(st.integers(0, n - 1))
    perm = draw(st.permutations(list(range(n))))
    return n, s, np.array(perm[: n - s])


@settings(max_examples=120)
@given(case=code_and_responders(), seed=st.integers(0, 2**16))
def test_any_n_minus_s_responders_decode_the_exact_sum(case, seed):
    n, s, F = case
    code = make_code(n, s)
    G = np.random.default_rng(seed).standard_normal((n, 7))
    messages = code.messages(F, G)
    decoded = code.decoding_vector(F) @ messages
    decoded = decoded.real if np.iscomplexobj(decoded) else decoded
    truth = G.sum(axis=0)
    assert np.max(np.abs(decoded - truth)) <= 1e-9 * np.max(np.abs(truth))


@pytest.mark.parametrize("n", [2, 4, 6, 12, 32])
def test_fractional_repetition_is_exact(n):
    rng = np.random.default_rng(n)
    G = rng.standard_normal((n, 5))
    for s in [s for s in range(n) if n % (s + 1) == 0]:
        code = make_code(n, s, "fractional" if 0 < s < n - 1 else "auto")
        for _ in range(20):
            F = rng.permutation(n)[: n - s]
            a = code.decoding_vector(F)
            # exact: 0/1 weights that reproduce 1ᵀ with no rounding, so only summation order differs
            assert set(np.unique(a)) <= {0.0, 1.0} and np.array_equal(a @ code.B[F], np.ones(n))
            decoded = a @ code.messages(F, G)
            assert np.allclose(decoded, G.sum(axis=0), rtol=4e-16 * n, atol=0)
        if 0 < s < n - 1:
            assert set(np.unique(code.B)) == {0.0, 1.0}


@pytest.mark.parametrize("kind", ["gaussian", "mds", "cyclic"])
def test_cyclic_codes_use_the_cyclic_window(kind):
    n, s = 11, 3
    code = make_code(n, s, kind)
    for w in range(n):
        assert set(code.support(w)) == {(w + j) % n for j in range(s + 1)}


def test_level_zero_is_uncoded_and_level_n_minus_1_is_any_single_worker():
    n = 7
    assert np.array_equal(make_code(n, 0).B, np.eye(n))
    code = make_code(n, n - 1)
    G = np.arange(n * 3, dtype=float).reshape(n, 3)
    for w in range(n):
        assert np.allclose(code.decoding_vector([w]) @ code.messages([w], G), G.sum(axis=0))


def test_too_few_responders_are_refused_never_decoded():
    code = make_code(8, 3)
    with pytest.raises(ValueError, match="at least N - s = 5"):
        code.decoding_vector([0, 1, 2, 3])
    with pytest.raises(ValueError, match="distinct worker indices"):
        code.decoding_vector([0, 0, 1, 2, 3])
    with pytest.raises(ValueError, match="distinct worker indices"):
        code.decoding_vector([0, 1, 2, 3, 9])


def test_decoding_vectors_are_cached_per_set():
    code = make_code(10, 3)
    a = code.decoding_vector([0, 1, 2, 4, 5, 6, 7])
    assert code.decoding_vector([0, 1, 2, 4, 5, 6, 7]) is a


def test_bad_code_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="level must be an integer in \\[0, 4\\]"):
        make_code(5, 5)
    with pytest.raises(ValueError, match="kind must be one of"):
        make_code(5, 1, "polar")
    with pytest.raises(ValueError, match="needs \\(level \\+ 1\\) to divide workers"):
        make_code(5, 1, "fractional")


@pytest.mark.parametrize("n", [16, 24, 32])
def test_default_code_decodes_every_level_within_1e9_including_straggler_bursts(n):
    """The decoding bound, swept over every level and every burst of s consecutive stragglers (the hard
    sets for cyclic codes) plus random sets independent of the ones the construction was chosen on."""
    rng = np.random.default_rng([n, 99])
    G = rng.standard_normal((n, 4))
    truth = G.sum(axis=0)
    for s in range(n):
        code = make_code(n, s)
        sets = [np.setdiff1d(np.arange(n), (np.arange(s) + b) % n) for b in range(n)]
        sets += [rng.permutation(n)[: n - s] for _ in range(15)]
        for F in sets:
            dec = code.decoding_vector(F) @ (code.B[F] @ G)
            assert np.max(np.abs(dec - truth)) <= 1e-9 * np.max(np.abs(truth)), (s, F)


@pytest.mark.parametrize("n, s", [(6, 2), (7, 3), (8, 3)])
def test_a_workers_own_encoding_equals_the_batched_one(n, s):
    """The worker path (its own subsets' rows only) and the simulator's B_F · G give one message."""
    code = make_code(n, s)
    G = np.random.default_rng(n + s).normal(size=(n, 9))
    for w in range(n):
        assert np.allclose(code.encode_support(w, G[code.support(w)]), code.messages([w], G)[0], rtol=1e-12)


@pytest.mark.parametrize(
    "n, s, kind",
    [
        (72, 0, "auto"),
        (72, 5, "auto"),
        (72, 7, "auto"),
        (70, 3, "cyclic"),
        (66, 10, "gaussian"),
        (72, 71, "auto"),
        (12, 3, "fractional"),
    ],
)
def test_layout_is_the_built_codes_kind_and_supports(n, s, kind):
    """What a large design document writes without building the code (codes.layout) is what make_code builds."""
    got = layout(n, s, kind)
    code = make_code(n, s, kind)
    assert got is not None and got[0] == code.kind
    assert all(np.array_equal(got[1][w], code.support(w)) for w in range(n))


def test_layout_leaves_measured_choices_to_the_construction():
    """At N ≤ 64 auto weighs the MDS code against Gaussian draws: only building tells the kind."""
    assert layout(20, 5) is None and layout(100, 7, "mds") is None


def test_worst_condition_batched_equals_one_svd_per_set():
    """The stacked SVD (sets of several sizes) gives the loop's maximum, to the last bit."""
    B = make_code(20, 6, "gaussian").B
    sets = probe_sets(20, 6) + [np.arange(15), np.arange(1, 20)]
    loop = max(float(sv[0] / sv[-1]) for sv in (np.linalg.svd(B[F], compute_uv=False)[:14] for F in sets))
    assert worst_condition(B, 6, sets) == loop
