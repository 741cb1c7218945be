"""A worker's emulated upload link (docs/runtime.md, "Schemes and links").

The worker computes its messages in one thread and uploads them in another, in order and one at a
time, so computing and uploading overlap. Message j leaves when ``bcgc.timing.links.departure`` says:
F(j) = max(R(j), F(j−1)) + λ + m_j / B in the unit of T, R(j) the time the message was actually
ready (its time stamp) and m_j its real size (the coordinates of the vector sent); the link holds it
until start + F(j) · unit. The recursion is the core's: this module only waits on it.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

from ..timing.links import departure

__all__ = ["uploads"]


def uploads(core, iteration: int, produced, plan, unit: float, start: float):
    """Yield the items of ``produced`` ((key, vector, compute seconds, stamp), computed in a thread
    of their own) once each has crossed the link ``plan.net``; stop when the iteration is cancelled.
    An exception raised by the computation is raised here, with its traceback."""
    box: queue.Queue = queue.Queue()

    def compute():
        try:
            for item in produced:
                box.put(item)
        except Exception as exc:  # worker code raised: the engine reports it as a Failure
            box.put(exc)
            return
        box.put(None)

    threading.Thread(target=compute, daemon=True).start()
    leave = -np.inf  # F(j-1): one step of the core's recursion per message, not the whole history again
    while True:
        item = box.get()  # the computation always ends with None, an exception, or on cancel
        if item is None:
            return
        if isinstance(item, Exception):
            raise item
        key, vec, spent, stamp = item
        ready = stamp / unit if unit > 0 else 0.0
        leave = float(departure(leave, ready, plan.net.message_time(float(np.size(vec))), plan.net))
        if not core._sleep_until(start + leave * unit, iteration):
            return  # cancelled while on the link: the master no longer needs it
        yield key, vec, spent, stamp
