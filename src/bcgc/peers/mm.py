"""The ``bcgc_mm`` row of ``compare`` (docs/peers.md, "bcgc_mm"): the frontier scheme designed under
the comparison's links and evaluated on the comparison's common draws (common random numbers with
every other Monte Carlo row).

The design (``bcgc.design.mm_design.design_mm``) searches on its own seeded streams, independent of
the common draws, so the row's E[τ] is not biased by the search. It minimises E[τ]; with a
deadline the row says so ("tuned for E[τ]"). Laws with full stragglers (E[τ] = ∞) get no row: the
design's objective is infinite there.
"""

from __future__ import annotations

import numpy as np

from ..analysis import summarize
from ..links import Links

__all__ = ["MM_COMPARE_EVALS", "mm_row"]

#: sample-objective evaluations of the search inside ``compare`` (``design_mm`` takes more when asked)
MM_COMPARE_EVALS = 1000


def mm_row(inputs, net: Links, bcgc_blocks, a, b):
    """The ``PeerResult`` of bcgc_mm for a comparison (``inputs``: ``peers.CompareInputs``) on the
    common draws (a, b); None when the law has full stragglers."""
    from ..design.mm_design import design_mm, mm_samples  # late import: design sits above the peers
    from . import PeerResult

    if inputs.model.full_prob > 0:
        return None
    res = design_mm(
        inputs.model,
        inputs.workers,
        inputs.coords,
        bandwidth=net.bandwidth,
        latency=net.latency,
        ingress=net.ingress,
        seed=inputs.seed,
        eval_samples=10,
        max_evals=MM_COMPARE_EVALS,
        bcgc_blocks=np.asarray(bcgc_blocks),
    )
    ev = summarize(mm_samples(res.design, a, b, net), inputs.deadline)
    params = {
        "design": res.design.describe(),
        "messages": res.messages_per_worker,
        "blocks": [[int(x.coords), x.redundancy, x.mode] for x in res.design.blocks],
    }
    return PeerResult(
        "bcgc_mm",
        ev,
        int(round(res.upload_per_worker)),
        params,
        True,
        inputs,
        "runtime",
        res.upload_time,
        None if net.free else net,
    )
