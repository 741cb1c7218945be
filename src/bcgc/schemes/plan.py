"""What one runtime design runs (docs/runtime.md, "Schemes and links"): the scheme's messages in the
order a worker sends them, their work and size, the links they cross, the master's decoder and the
model's time of an iteration.

Block schemes (``bcgc.schemes.blocks.BlockScheme``: bcgc, gc, uncoded) send one message per non-empty block
s, keyed s; bcgc_mm and UC-MMC (``bcgc.schemes.mm_codec.MMScheme``) send message m of their design's layout
(``bcgc.timing.mm.MMDesign.layout``), keyed m. The scheme encodes (worker side) and decodes (master side);
``bcgc.timing.general`` gives the ready times, ``bcgc.timing.links`` and ``bcgc.timing.mm`` the arrivals and the
predicted τ under the links. Nothing here re-implements a formula, an encoder or a decoder.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError
from ..timing import mm
from ..timing.general import cumulative_work, ready_at
from ..timing.links import FREE, Links, block_runtime_samples
from ..timing.mm import MMDesign
from ..timing.work import WorkOrder, as_order
from .blocks import BlockScheme
from .mm_codec import MMScheme

__all__ = ["Plan", "make_scheme", "BlockDecoder", "MMDecoder"]


def make_scheme(design, workers: int, code_kind: str = "auto", seed: int = 0, subset_sizes=None):
    """The scheme object of a design: a block vector (BlockScheme, with its subset sizes) or an
    MMDesign (MMScheme, whose codes are cyclic and subsets equal: ``code_kind`` and ``subset_sizes``
    apply to block schemes only)."""
    if isinstance(design, MMDesign):
        if subset_sizes is not None:
            raise InputError("subset_sizes apply to block designs only, not to an MMDesign")
        return MMScheme(design, seed=seed)
    return BlockScheme(design, workers, kind=code_kind, seed=seed, subset_sizes=subset_sizes)


class Plan:
    """A scheme with its links: what workers compute and upload, what the master decodes.

    ``levels``: the message keys in sending order; ``work[n, key]``: the work (units of a full-subset
    gradient) worker n has done when message ``key`` is ready; ``sizes``: coordinates per message.
    Other attributes are the scheme's (``slices``, ``blocks``, ``codes``, ...).

    ``order``: the workers' work order for block schemes (docs/model.md, "The backprop work order";
    None: the paper's). MM schemes send one message per subset-sized piece of work, so their timing
    is the same under every order: it is accepted and has no effect on them."""

    def __init__(self, scheme, net: Links = FREE, order: WorkOrder | None = None):
        if not isinstance(net, Links):
            raise InputError(f"net must be a bcgc.timing.links.Links, got {net!r}")
        self.scheme, self.net, self.order = scheme, net, as_order(order)
        self.workers, self.coords = scheme.workers, scheme.coords
        if isinstance(scheme, BlockScheme):
            self.kind, self.levels = "block", np.asarray(scheme.levels)
            self.work = cumulative_work(scheme.blocks, getattr(scheme, "shares", None), self.order)
            self.sizes = np.asarray(scheme.blocks, dtype=float)[self.levels]
        elif isinstance(scheme, MMScheme):
            work, size, _, _ = scheme.design.layout()
            self.kind, self.levels = "mm", np.arange(work.size)
            self.work, self.sizes = np.tile(work, (self.workers, 1)), size
        else:
            raise InputError(f"scheme must be a BlockScheme or an MMScheme, got {type(scheme).__name__}")

    def __getattr__(self, name):
        if name.startswith("__") or name == "scheme":  # pickling looks these up before __dict__ is set
            raise AttributeError(name)
        return getattr(self.scheme, name)

    @property
    def design(self):
        """The design as the log writes it: the block vector, or the MMDesign's dict."""
        return self.scheme.design.as_dict() if self.kind == "mm" else self.scheme.blocks.tolist()

    def message(self, worker: int, key: int, partial) -> np.ndarray:
        """Worker n's message ``key``, encoded by the scheme from ``partial(k, coords)``."""
        return self.scheme.worker_message(worker, int(key), partial)

    def ready(self, worker: int, fixed: float, rate: float) -> np.ndarray:
        """R_n(key) = a_n + b_n · W_n(key) for each message, in sending order (``bcgc.timing.general``)."""
        return ready_at([[fixed]], [[rate]], self.work[worker, self.levels])[0, 0]

    def runtime(self, fixed, rate) -> np.ndarray:
        """τ under the links for draws (K, N) of (a, b), unit of T: ``bcgc.timing.links`` (block schemes)
        or ``bcgc.timing.mm`` (whose arrivals are ``bcgc.timing.links``'s). Free links: the timeline model."""
        fixed, rate = np.atleast_2d(fixed), np.atleast_2d(rate)
        if self.kind == "mm":
            return mm.runtime_samples(self.scheme.design, fixed, rate, self.net)
        shares = getattr(self.scheme, "shares", None)
        return block_runtime_samples(self.scheme.blocks, fixed, rate, self.net, shares, self.order)

    def tau_quantile(self, law, q: float, rng, samples: int = 2000) -> float:
        """The q-quantile of τ under ``law`` (its fixed cost a and rate b) and the links, over decodable draws."""
        tau = self.runtime(*law.sample_parts(samples, self.workers, rng))
        tau = tau[np.isfinite(tau)]
        return float(np.quantile(tau, q)) if tau.size else float("inf")

    def tolerates(self, dead: int) -> bool:
        """Every block decodes without ``dead`` workers: level s ≥ #dead; r_b − 1 ≥ #dead (bcgc_mm)."""
        if self.kind == "mm":
            return all(b.redundancy - 1 >= dead for b in self.scheme.design.blocks)
        return all(int(s) >= dead for s in self.levels)

    def total_work(self) -> float:
        """Mean work per worker and iteration (units of a full-subset gradient)."""
        return float(self.work[:, self.levels[-1]].mean())

    def decoder(self):
        return MMDecoder(self) if self.kind == "mm" else BlockDecoder(self)


class BlockDecoder:
    """Block s is decoded from the FIRST N − s arrivals of that block (``BlockScheme.decode``)."""

    def __init__(self, plan: Plan):
        self.plan, self.got, self.decoded, self.info = plan, {int(s): [] for s in plan.levels}, {}, {}

    @property
    def complete(self) -> bool:
        return len(self.decoded) == len(self.got)

    def add(self, worker: int, key: int, vector, seconds: float) -> None:
        if key in self.decoded:
            return
        got = self.got[key]
        got.append((worker, vector))
        if len(got) == self.plan.workers - key:
            F = [w for w, _ in got]
            self.decoded[key] = self.plan.scheme.decode(key, F, np.stack([v for _, v in got]))
            self.info[key] = {"seconds": seconds, "workers": F}

    def gradient(self) -> np.ndarray:
        g = np.empty(self.plan.coords)
        for s, vec in self.decoded.items():
            g[self.plan.scheme.slices[s]] = vec
        return g


class MMDecoder:
    """bcgc_mm and UC-MMC: the arrivals so far, timed by ``bcgc.timing.mm.decode_times``; once every block
    is decodable, ``MMScheme.decode`` gives the gradient from exactly the messages that rule names."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.arrival = np.full((plan.workers, plan.levels.size), np.inf)
        self.messages: dict = {}
        self.decoded, self.info, self.complete = {}, {}, False

    def add(self, worker: int, key: int, vector, seconds: float) -> None:
        if self.complete or np.isfinite(self.arrival[worker, key]):
            return
        self.arrival[worker, key] = seconds
        self.messages.setdefault(worker, {})[key] = vector
        times = mm.decode_times(self.plan.scheme.design, self.arrival[None])[0]
        for b in np.flatnonzero(np.isfinite(times)):
            self.decoded.setdefault(int(b), True)
            self.info.setdefault(int(b), {"seconds": float(times[b])})
        self.complete = bool(np.all(np.isfinite(times)))

    def gradient(self) -> np.ndarray:
        return self.plan.scheme.decode(self.arrival, self.messages)[0]
