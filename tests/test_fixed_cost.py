"""The fixed-cost law T(w) = a + b · w: text form, parts, refusals."""

import numpy as np
import pytest

from bcgc.stragglers import FixedCost, parse_model


def test_text_form_round_trips_and_parts_add_up():
    law = parse_model("affine:a=exponential:rate=3;b=shifted-exponential:shift=1,rate=2")
    assert isinstance(law, FixedCost) and parse_model(law.spec).spec == law.spec
    a, b = law.sample_parts(100, 4, seed=7)
    assert np.array_equal(a + b, law.sample(100, 4, seed=7))
    assert a.min() > 0 and b.min() >= 1


def test_a_number_is_a_constant_fixed_cost():
    a, b = parse_model("affine:a=0.5;b=exponential:rate=1").sample_parts(10, 3, seed=0)
    assert np.all(a == 0.5) and np.all(b > 0)


def test_a_law_without_fixed_cost_has_zero_a():
    law = parse_model("exponential:rate=1")
    a, b = law.sample_parts(5, 2, seed=1)
    assert np.all(a == 0) and np.array_equal(b, law.sample(5, 2, seed=1))


@pytest.mark.parametrize(
    "text, words",
    [
        ("affine:a=-1;b=exponential:rate=1", "fixed cost a"),
        ("affine:b=exponential:rate=1", "needs both a"),
        ("affine:a=1;a=2;b=exponential:rate=1", "each once"),
    ],
)
def test_bad_affine_laws_are_refused_by_name(text, words):
    with pytest.raises(ValueError, match=words):
        parse_model(text)


def test_heterogeneous_accepts_fixed_cost_parts_and_stacks_their_parts():
    from bcgc.stragglers import Heterogeneous

    law = parse_model("heterogeneous:2*affine:a=0.5;b=exponential:rate=1;1*exponential:rate=2")
    assert isinstance(law, Heterogeneous) and law.workers == 3
    assert (
        parse_model(law.spec).spec
        == law.spec
        == ("heterogeneous:2*affine:a=0.5;b=exponential:rate=1;1*exponential:rate=2")
    )
    a, b = law.sample_parts(200, 3, seed=5)
    assert np.all(a[:, :2] == 0.5) and np.all(a[:, 2] == 0) and np.array_equal(a + b, law.sample(200, 3, seed=5))
    with pytest.raises(ValueError, match="affine needs both"):
        parse_model("heterogeneous:2*affine:a=0.5;1*exponential:rate=2")
