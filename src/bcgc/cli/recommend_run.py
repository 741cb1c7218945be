"""``bcgc recommend``: what it runs (its parser: :mod:`.recommend_cmd`)."""

from __future__ import annotations

from .. import report_recommend
from ..peers import compare
from ..recommend import check_law, recommend
from .options import link_args


def run_recommend(a):
    check_law(a.model)  # every E[τ] infinite: refused before the comparison runs
    rows = compare(a.model, a.workers, a.coords, samples=a.samples, seed=a.seed, mm=not a.no_mm, **link_args(a))
    rec = recommend(rows)
    return report_recommend.recommend_json(rec) if a.json else report_recommend.render_recommend(rec)
