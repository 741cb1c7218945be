"""The per-step protocol of the coded all-reduce on a process group's store, and the collective
helpers its data-parallel wrappers share (docs/torch.md, "Coded all-reduce").

Step t of N ranks, keys under the step's prefix (``Store.add`` is atomic on every store torch has):

* ``b{s}`` — block s's finish counter: a rank that has finished its coded block s adds 1 and gets its
  position p; the ranks with p ≤ N − s are block s's responders, in the order of p (the master's
  "first N − s arrivals", ``BlockScheme.first_responders``, without a master), and each writes its
  rank under ``b{s}/{p}``: once every rank has stopped, one ``multi_get`` tells every rank who
  finished what (the all-gather of the protocol, done by the store: one round trip, where gloo's
  all-gather takes N − 1 hops);
* ``done`` — the rank whose p is exactly N − s completes block s and adds 1 here; the one that makes
  it the number of non-empty blocks closes the step: ``closed`` = its clock (``time.perf_counter``,
  system-wide on one machine, so a rank's stop latency is its stop time minus that value);
* ``stopped``, ``all`` — each rank stops at its next block boundary (or wakes from its emulated delay:
  a thread blocks on ``closed`` in a clone of the store) and adds 1 to ``stopped``; the N-th sets ``all``.
  Only then do the collectives start, so a dead or hung rank can never hang them: a rank that has
  not stopped within ``stop_timeout`` (the step not closed within ``close_timeout``) ends the step on
  every live rank with :class:`RankTimeout`, naming the ranks that did not check in.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import threading
import time

import numpy as np
import torch
import torch.distributed as dist

from .._validate import RunFailed

__all__ = ["RankTimeout", "StepStore", "all_reduce_buckets", "write_grads", "flat_grads", "check_identical"]


class RankTimeout(RunFailed):
    """A rank never reached the stop of a step (dead or hung): raised on every live rank."""


def _delta(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=float(seconds))


#: StepStores made by this process: every rank makes them in the same order, so the count names one
#: protocol instance alike on every rank and two wrappers on one store never share a key
_INSTANCES = itertools.count()


class StepStore:
    """The store side of one rank: closing, stopping and the error naming a missing rank."""

    def __init__(self, store, rank: int, world: int, close_timeout: float, stop_timeout: float, grace: float = 2.0):
        self.store, self.rank, self.world = store, rank, world
        self.instance = next(_INSTANCES)
        self.waiter = store.clone()  # blocks on ``closed`` in its own thread: a store client per thread
        self.close_timeout, self.stop_timeout, self.grace = close_timeout, stop_timeout, grace
        self.closed = threading.Event()
        self.t, self.blocks, self.round, self._levels = -1, 0, -1, {}

    def begin(self, t: int, blocks: int) -> None:
        """Step t with ``blocks`` non-empty blocks: watch for its closure. Keys are per round (a
        counter of this object's steps, the same on every rank), so a step number used twice is safe."""
        self.t, self.blocks, self.round = int(t), int(blocks), self.round + 1
        levels = self._levels.pop(self.round - 2, None)
        if levels is not None and self.rank == 0:  # every rank has left round r - 2 (it passed r - 1's all-reduce)
            self.forget(self.round - 2, levels)
        self.closed = event = threading.Event()
        key = self._key("closed")

        def watch():
            try:
                self.waiter.wait([key], _delta(self.close_timeout + self.stop_timeout))
                event.set()
            except Exception:  # the step failed (or the store went away): the main thread reports it
                pass

        threading.Thread(target=watch, daemon=True).start()

    def _key(self, name: str, r: int | None = None) -> str:
        return f"bcgc/{self.instance}/{self.round if r is None else r}/{name}"

    def _op(self, fn, *args):
        try:
            return fn(*args)
        except dist.DistStoreError:
            raise
        except RuntimeError as exc:  # a broken connection: whoever hosts the store has gone
            raise RankTimeout(
                f"rank {self.rank}: the process group's store is unreachable in step {self.t} "
                f"(the process hosting it, rank 0 or torchrun's agent, has gone?): {exc}"
            ) from None

    def finish(self, level: int, needed: int) -> int:
        """Record this rank's block ``level`` as finished; its position (1 = first). Closes the
        step when this finish completes the last block."""
        pos = int(self._op(self.store.add, self._key(f"b{level}"), 1))
        if pos <= needed and level > 0:  # level 0's responders are every rank: nothing to record
            self._op(self.store.set, self._key(f"b{level}/{pos}"), str(self.rank))
        # the last block to complete closes the step (one block: no need to count them)
        if pos == needed and (self.blocks == 1 or int(self._op(self.store.add, self._key("done"), 1)) == self.blocks):
            self._op(self.store.set, self._key("closed"), repr(time.perf_counter()))
            self.closed.set()
        return pos

    def sleep_until(self, due: float) -> bool:
        """Sleep until ``due`` (perf_counter) unless the step closes first; True when due."""
        left = due - time.perf_counter()
        return left <= 0 or not self.closed.wait(left)

    def stop(self, finished: bool = False) -> None:
        """Wait for the closure (if not yet: on the store itself, one wake-up fewer than through the
        watching thread), check in, wait for every rank. A rank that ``finished`` all its blocks is at
        the stop already: it checks in at once (every rank checked in implies the step closed: a rank
        stops early only once it has)."""
        if not finished and not self.closed.is_set():
            try:
                self.store.wait([self._key("closed")], _delta(self.close_timeout))
            except dist.DistStoreError:
                self._missing("the step did not close", self.close_timeout)
        self.stopped_at = time.perf_counter()
        if int(self._op(self.store.add, self._key("stopped"), 1)) == self.world:
            self._op(self.store.set, self._key("all"), b"1")
        try:
            self.store.wait([self._key("all")], _delta(self.stop_timeout))
        except dist.DistStoreError:
            self._missing("not every rank stopped", self.stop_timeout)

    def latency(self) -> tuple[float, float]:
        """(the closure's clock, seconds from it to this rank's stop): bookkeeping, after the step."""
        self.closed_at = float(self._op(self.store.get, self._key("closed")).decode())
        return self.closed_at, max(0.0, self.stopped_at - self.closed_at)  # 0: at the stop before the closure

    def _missing(self, what: str, timeout: float):
        """Every live rank checks in under ``alive/``; after ``grace`` s the others are named."""
        self._op(self.store.set, self._key(f"alive/{self.rank}"), b"1")
        time.sleep(self.grace)
        gone = [n for n in range(self.world) if not self._op(self.store.check, [self._key(f"alive/{n}")])]
        counts = {k: int(self._op(self.store.add, self._key(k), 0)) for k in ("done", "stopped")}
        raise RankTimeout(
            f"step {self.t} (round {self.round}): {what} within {timeout:g} s; rank(s) {gone} did not reach the stop (dead or hung) "
            f"({counts['done']} of {self.blocks} blocks closed, {counts['stopped']} of {self.world} ranks stopped)"
        )

    def responders(self, levels) -> dict:
        """F_s for each level s: the ranks of positions 1..N − s, in that order (after :meth:`stop`)."""
        self._levels[self.round] = levels
        keys = [self._key(f"b{s}/{p}") for s in levels if s > 0 for p in range(1, self.world - s + 1)]
        ranks = iter(int(v) for v in self._op(self.store.multi_get, keys)) if keys else iter(())
        return {
            s: np.array([next(ranks) for _ in range(self.world - s)]) if s else np.arange(self.world) for s in levels
        }

    def forget(self, r: int, levels) -> None:
        """Delete round r's keys (its blocks ``levels``), in a thread of its own."""
        names = [*(f"b{s}" for s in levels), "done", "closed", "stopped", "all"]
        names += [f"b{s}/{p}" for s in levels if s > 0 for p in range(1, self.world - s + 1)]
        keys = [self._key(name, r) for name in names]
        if getattr(self, "_janitor", None) is None:
            self._janitor = self.store.clone()
        janitor = self._janitor

        def delete():
            for key in keys:
                janitor.delete_key(key)

        threading.Thread(target=delete, daemon=True).start()


def all_reduce_buckets(flat: torch.Tensor, bucket: int, group=None) -> torch.Tensor:
    """Σ over ranks of ``flat`` in place, in buckets of ``bucket`` elements, all in flight at once."""
    works = [dist.all_reduce(chunk, group=group, async_op=True) for chunk in flat.split(bucket)]
    for w in works:
        w.wait()
    return flat


def flat_grads(params, dtype=None) -> torch.Tensor:
    """The parameters' ``.grad`` as one vector (zeros where a tensor has none)."""
    parts = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
    flat = torch.cat([g.reshape(-1) for g in parts])
    return flat if dtype is None else flat.to(dtype)


def write_grads(params, offsets, flat: torch.Tensor) -> None:
    """``.grad`` of each tensor from its slice of ``flat`` (θ's layout, ``TorchProblem.offsets``)."""
    for p, lo, hi in zip(params, offsets[:-1], offsets[1:]):
        p.grad = flat[int(lo) : int(hi)].view_as(p).to(p.dtype).clone()


def _digest(params) -> int:
    h = hashlib.blake2b(digest_size=7)
    for p in params:
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return int.from_bytes(h.digest(), "little")


def check_identical(params, step: int, group=None, device="cpu") -> None:
    """Every rank holds bit for bit the same parameters (a hash all-gathered), else RunFailed."""
    mine = torch.tensor([_digest(params)], dtype=torch.int64, device=device)
    every = [torch.zeros_like(mine) for _ in range(dist.get_world_size(group))]
    dist.all_gather(every, mine, group=group)
    values = np.array([int(v.item()) for v in every])
    if np.any(values != values[0]):
        raise RunFailed(f"after step {step} the parameters differ across ranks: {np.flatnonzero(values != values[0])}")
