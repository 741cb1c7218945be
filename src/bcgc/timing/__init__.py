"""The runtime of a design on draws: one entry point, :func:`runtime` (docs/model.md).

Three exact forms, one per model, each in its module, and :func:`runtime` choosing among them:

* formula (2) (``orderstat``): τ = max_{s: x_s>0} c_s · T_(N−s) — no fixed cost, equal subsets,
  free links; the fast path (one sort per draw) and the one exact evaluation can integrate;
* the general model (``general``): block s ready on worker n at a_n + b_n · W_n(s), decoded at the
  (N−s)-th smallest ready time — a fixed cost or unequal subsets;
* upload links (``links``): those ready times through each worker's link (and a shared ingress).

The peers' own timings live here too, once each: UC-MMC (``ucmmc``), the bcgc_mm messages (``mm``),
the oracle bound (``oracle``), and the (N − s)-th smallest arrival (``general.order_decode``).
"""

from __future__ import annotations

import numpy as np

from .general import check_subset_sizes, cyclic_shares, order_decode, runtime_samples, unequal_sizes
from .links import FREE, Links, block_runtime_samples, links
from .oracle import oracle_affine_samples, oracle_links, oracle_samples
from .orderstat import OrderStatMax, descending
from .ucmmc import ucmmc_runtimes
from .work import PAPER, WorkOrder, as_order

__all__ = [
    "runtime",
    "WorkOrder",
    "PAPER",
    "as_order",
    "OrderStatMax",
    "descending",
    "order_decode",
    "check_subset_sizes",
    "unequal_sizes",
    "Links",
    "FREE",
    "links",
    "ucmmc_runtimes",
    "oracle_samples",
    "oracle_affine_samples",
    "oracle_links",
]


def runtime(
    blocks, rate, fixed=None, subset_sizes=None, net: Links = FREE, sorted_rate=None, order: WorkOrder | None = None
) -> np.ndarray:
    """τ of the block design x on each draw, shape (K,) (docs/model.md).

    ``rate`` b (K, N) — T itself without a fixed cost; ``fixed`` a (K, N) or None for a = 0;
    ``subset_sizes`` d (None or equal: d_k = 1/N); ``net`` the upload links. With a = 0, equal subsets
    and free links this is formula (2) on ``sorted_rate`` (b sorted descending, if at hand); otherwise
    the general model, through the links when they are not free. The three agree where they overlap
    (tests/test_timeline.py, tests/test_links.py). ``order``: the worker's work order (None: the
    paper's); a backprop order always takes the general model (docs/model.md, "The backprop work order")."""
    x = np.asarray(blocks)
    rate = np.atleast_2d(np.asarray(rate, dtype=float))
    d = None if subset_sizes is None else np.asarray(subset_sizes, dtype=float)  # validated by the caller
    order = as_order(order)
    shares = None if d is None else cyclic_shares(d)
    if not net.free:
        a = np.zeros_like(rate) if fixed is None else fixed
        return block_runtime_samples(x, a, rate, net, shares, order)
    if d is None and (fixed is None or not np.any(fixed)) and order.is_paper:
        return OrderStatMax.from_blocks(x).samples(descending(rate) if sorted_rate is None else sorted_rate)
    a = np.zeros_like(rate) if fixed is None else fixed
    return runtime_samples(x, a, rate, shares, order)
