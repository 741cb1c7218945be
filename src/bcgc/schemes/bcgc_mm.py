"""bcgc_mm, the frontier scheme (docs/model.md, "The frontier scheme bcgc_mm"): BCGC blocks whose
messages may be split. Its parameter is a design (``bcgc.design.mm_design.design_mm``) made by the
caller and handed over as ``ctx.chosen["bcgc_mm"]`` (with its ``MMDesign`` under "mm_design");
timing: ``bcgc.timing.mm``. Its messages are subset-sized pieces of work sent as each is done, so
the work order (docs/model.md, "The backprop work order") does not change its timing: it is timed
the same under every order, and nothing is refused."""

from __future__ import annotations

import numpy as np

from ..timing.mm import runtime_samples
from .base import Scheme

__all__ = ["BCGCMM", "mm_samples"]


def mm_samples(design, a, b, net, chunk_values: float = 4e6, sorted_rate=None, cache=None) -> np.ndarray:
    """τ of ``design`` on draws (a, b), in chunks of draws so that the (K, N, M) arrays of links stay
    small (free links build none); ``sorted_rate``: b sorted descending, if at hand, and ``cache``: a
    dict kept for these draws (free links: ``bcgc.timing.mm.free_runtime_samples``)."""
    if net.free:
        return runtime_samples(design, a, b, net, sorted_rate, cache)
    per = max(1, int(chunk_values // (a.shape[1] * max(1, design.messages_per_worker))))
    return np.concatenate(
        [runtime_samples(design, a[i : i + per], b[i : i + per], net) for i in range(0, a.shape[0], per)]
    )


class BCGCMM(Scheme):
    name = "bcgc_mm"
    runnable = True

    def tune(self, ctx, most_likely=None):
        return ctx.chosen["bcgc_mm"]

    def runtime(self, params, ctx):
        free = ctx.mode == "free"  # a = 0: the sorted draws serve the coded and layered blocks
        return mm_samples(
            params["mm_design"], ctx.fixed, ctx.rate, ctx.net, sorted_rate=ctx.sorted_rate if free else None
        )

    def upload(self, params, coords):
        return int(round(params["mm_design"].upload_per_worker))

    def messages(self, params, ctx):
        return params["mm_design"].messages_per_worker

    def tolerance(self, params, ctx):
        return min(blk.redundancy for blk in params["mm_design"].blocks) - 1

    def run_design(self, model, workers, coords, tolerate, policy):
        raise NotImplementedError("bcgc_mm's run design is made by bcgc.design (bcgc.policy.DesignPolicy)")
