"""A re-design after deaths the design no longer tolerates (docs/runtime.md, deaths): the master
asks its policy for a design tolerating the dead workers, ships each live worker the subsets it now
needs and logs the change."""

from __future__ import annotations

import numpy as np

from .. import _validate as V
from .record import sizes_record

__all__ = ["redesign"]


def redesign(master, iteration) -> None:
    """Re-design ``master`` (a :class:`~.master.Master`) for its dead workers, again if shipping
    the data found more of them dead."""
    m = master
    f = len(m.dead)
    if f >= m.N:
        raise V.RunFailed(f"all {m.N} workers are dead: the run cannot continue")
    if not m.allow_redesign:
        raise V.RunFailed(f"{f} dead workers exceed what the design tolerates and re-design is off")
    old = m.plan.design
    # the data stay where they are: BCGC's blocks are designed for the current subset sizes
    sizes = m.data.sizes
    given = np.full(m.N, 1.0 / m.N) if sizes is None and m.policy.scheme == "bcgc" else sizes
    m._set_design(m.policy.blocks(m.model, m.N, m.scheme.coords, dead=f, subset_sizes=given), sizes)
    found_dead = m._ship()[2]
    m.result.redesigns += 1
    m._emit(
        {
            "event": "redesign",
            "iteration": iteration,
            "scheme": m.name,
            "policy": m.policy.scheme,
            "dead": sorted(m.dead),
            "tolerate": m.policy.tolerance(f),
            "old_blocks": old,
            "new_blocks": m.plan.design,
            **sizes_record(m.data.sizes),
        }
    )
    if found_dead:  # a worker died unnoticed: the new design must tolerate it too
        m.dead.update(found_dead)
        for w in found_dead:
            m._emit({"event": "death", "iteration": iteration, "worker": w, "reason": "load failed"})
        if not m._tolerates_dead():
            m._redesign(iteration)
