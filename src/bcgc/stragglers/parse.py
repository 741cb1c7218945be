"""The command-line text form of a law (:func:`parse_model`) and maximum-likelihood fitting (:func:`fit`)."""

from __future__ import annotations

from pathlib import Path

from .._validate import InputError, Options
from .base import IIDLaw, StragglerModel
from .composite import FullStragglers, Heterogeneous
from .empirical import Empirical, Trace, read_trace
from .fixed_cost import FixedCost
from .registry import FAMILIES, REGISTRY
from .shipped import shipped_names, shipped_path

#: Most workers a heterogeneous law may describe: far above any cluster, far below a memory error.
MAX_WORKERS = 100_000

_SYNTAX = (
    "NAME:key=value,... with NAME one of "
    + ", ".join(list(REGISTRY) + ["empirical", "trace", "heterogeneous", "affine"])
    + " (e.g. shifted-exponential:shift=1,rate=1; add full=P for full stragglers)"
)


def fit(family: str, data) -> IIDLaw:
    """Fit a named i.i.d. law to observed times (array or :class:`Trace`) by maximum likelihood."""
    family = Options(*FAMILIES).check("family", family)
    return FAMILIES[family].fit(data)


def parse_model(text: str) -> StragglerModel:
    """Read a law from its text form (docs/model.md), e.g. ``pareto:scale=1,shape=2.5``.

    * ``shifted-exponential:shift=1,rate=1``, ``exponential:rate=1``, ``pareto:scale=1,shape=2.5``,
      ``weibull:scale=1,shape=1.5``, ``lognormal:mu=0,sigma=0.5``,
      ``bimodal:shift=1,rate=1,factor=5,prob=0.1``
    * ``trace:path=times.csv`` (joint law, bootstrapped rows), ``empirical:path=times.csv`` (pooled i.i.d.);
      ``trace:name=alibaba-pai-job2``: a trace shipped with bcgc (:func:`shipped_names`)
    * ``heterogeneous:6*shifted-exponential:shift=1,rate=1;2*shifted-exponential:shift=3,rate=1``
      (parts may be affine: ``heterogeneous:2*affine:a=0.5;b=exponential:rate=1;1*exponential:rate=2``)
    * ``affine:a=0.5;b=shifted-exponential:shift=1,rate=2``: time a + b · w for work w (a a number or a law)
    * any of them with ``full=P`` appended: each worker never answers with probability P.
    """
    if not isinstance(text, str) or ":" not in text:
        raise InputError(f"model {text!r} is malformed: expected {_SYNTAX}")
    name, _, rest = text.strip().partition(":")
    name = name.strip().lower()
    if name == "heterogeneous":  # its parts hold commas of their own: split on ';' first
        return _parse_heterogeneous(text, rest)
    if name == "affine":
        return _parse_affine(text, rest)
    params = _parse_pairs(text, rest)
    full = params.pop("full", None)
    if name in ("trace", "empirical"):
        law = _parse_data_law(text, name, params)
    elif name in REGISTRY:
        law = _parse_named(text, name, params)
    else:
        raise InputError(f"model {text!r} has an unknown law {name!r}: expected {_SYNTAX}")
    if full is not None:
        try:
            q = float(full)
        except ValueError:
            raise InputError(f"model {text!r}: full must be a probability in [0, 1), got {full!r}") from None
        law = FullStragglers(law, q)
    return law


def _parse_heterogeneous(text: str, rest: str) -> Heterogeneous:
    """``COUNT*LAW;COUNT*LAW;..`` (a bare LAW counts once) -> one law per worker, in order."""
    laws = []
    for part in _heterogeneous_parts(rest):
        count, star, law_text = part.partition("*")
        if not star:
            count, law_text = "1", part
        n = _int_param(f"model {text!r}", "count", count, MAX_WORKERS)
        if len(laws) + n > MAX_WORKERS:  # checked before the list grows: no memory error
            raise InputError(
                f"model {text!r}: heterogeneous describes at most {MAX_WORKERS} workers, got {len(laws) + n} or more"
            )
        law = parse_model(law_text)
        if not (law.iid or (isinstance(law, FixedCost) and law.workers is None)):
            raise InputError(
                f"model {text!r}: each part of heterogeneous must be an i.i.d. law "
                f"or an affine one (not a trace or a nested heterogeneous), got {law_text.strip()!r}"
            )
        laws.extend([law] * n)
    if not laws:
        raise InputError(f"model {text!r}: heterogeneous needs parts COUNT*LAW separated by ';'")
    return Heterogeneous(tuple(laws))


def _heterogeneous_parts(rest: str) -> list[str]:
    """The parts of a heterogeneous law split on ';', an affine part kept whole: its own ';b=..'
    joins it (``2*affine:a=0.5;b=exponential:rate=1;1*exponential:rate=2``)."""
    parts = []
    for part in filter(None, (p.strip() for p in rest.split(";"))):
        if (
            parts
            and part.lower().startswith("b=")
            and "affine:" in parts[-1].lower()
            and ";b=" not in parts[-1].lower()
        ):
            parts[-1] += ";" + part
        else:
            parts.append(part)
    return parts


def _parse_affine(text: str, rest: str) -> FixedCost:
    """``a=NUMBER or LAW;b=LAW`` -> :class:`FixedCost` (parts split on ';': laws hold commas)."""
    parts = {}
    for part in filter(None, (p.strip() for p in rest.split(";"))):
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if not eq or key not in ("a", "b") or key in parts:
            raise InputError(f"model {text!r}: affine takes a=NUMBER or LAW;b=LAW, each once, got {part!r}")
        parts[key] = value.strip()
    if set(parts) != {"a", "b"}:
        raise InputError(
            f"model {text!r}: affine needs both a (the fixed cost) and b (the rate), e.g. "
            "affine:a=0.5;b=exponential:rate=1"
        )
    try:
        a = float(parts["a"])
    except ValueError:
        a = parse_model(parts["a"])
    return FixedCost(a, parse_model(parts["b"]))


def _parse_pairs(text: str, rest: str) -> dict[str, str]:
    """``key=value,key=value`` -> {lower-case key: value text}."""
    params = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or "=" in value:
            raise InputError(f"model {text!r} is malformed at {item!r}: expected key=value pairs separated by commas")
        key = key.strip().lower()
        if key in params:  # never let a later value silently win
            raise InputError(f"model {text!r}: parameter {key!r} is given twice")
        params[key] = value.strip()
    return params


def _parse_data_law(text: str, name: str, params: dict[str, str]) -> StragglerModel:
    """``path=FILE.csv``, or ``name=NAME`` for a trace shipped with bcgc (docs/traces.md)."""
    if set(params) not in ({"path"}, {"name"}):
        raise InputError(
            f"model {text!r}: {name} takes exactly one parameter, path=FILE.csv or name=NAME "
            f"(a shipped trace: {', '.join(shipped_names())})"
        )
    if "name" in params:
        path = shipped_path(params["name"])
        source = f"name={path.stem}"
    else:
        if not params["path"]:
            raise InputError(f"model {text!r}: path is empty; expected path=FILE.csv")
        path = source = params["path"]
        _hint_shipped(text, path)
    samples = read_trace(path)
    return Trace(samples, source=source) if name == "trace" else Empirical(samples, source=source)


def _hint_shipped(text: str, path: str) -> None:
    """A missing file named like a shipped trace: say how to name it (never read it in its place)."""
    stem = Path(path).name.removesuffix(".csv")
    if not Path(path).exists() and stem in shipped_names():
        raise InputError(
            f"model {text!r}: no file {path!r} here; the trace shipped with bcgc is named without a path: name={stem}"
        )


def _parse_named(text: str, name: str, params: dict[str, str]) -> IIDLaw:
    cls = REGISTRY[name]
    allowed = cls.params()
    unknown = set(params) - set(allowed)
    if unknown:
        raise InputError(
            f"model {text!r}: unknown parameter {sorted(unknown)[0]!r} for {name}; allowed: {', '.join(allowed)}, full"
        )
    missing = [k for k in allowed if k not in params]
    if missing:  # never guess a parameter the user did not give
        raise InputError(f"model {text!r}: missing parameter {missing[0]!r} for {name}; required: {', '.join(allowed)}")
    kwargs = {}
    for k, v in params.items():
        try:
            kwargs[k] = float(v)
        except ValueError:
            raise InputError(f"model {text!r}: {k} must be a number, got {v!r}") from None
    return cls(**kwargs)


def _int_param(owner, name, value, maximum):
    try:
        v = int(value)
    except ValueError:
        raise InputError(f"{owner}: {name} must be an integer in [1, {maximum}], got {value!r}") from None
    if not 1 <= v <= maximum:
        raise InputError(f"{owner}: {name} must be an integer in [1, {maximum}], got {v}")
    return v


def as_law(value) -> StragglerModel:
    """A straggler law, or its text form parsed (``"shifted-exponential:shift=1,rate=1"``)."""
    if isinstance(value, str):
        return parse_model(value)
    if not isinstance(value, StragglerModel):
        raise InputError(
            "model must be a straggler law (e.g. bcgc.stragglers.ShiftedExponential(1, 1)) or its "
            f"text form (e.g. 'shifted-exponential:shift=1,rate=1'), got {type(value).__name__}"
        )
    return value
