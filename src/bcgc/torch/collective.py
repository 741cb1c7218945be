"""The per-step protocol of the coded all-reduce on a process group's store, and the collective
helpers its data-parallel wrappers share (docs/torch.md, "Coded all-reduce").

Step t of N ranks, keys under the step's round (``Store.add`` is atomic on every store torch has):

* ``c{g}`` — the finish counters of the design's non-empty blocks, packed: block i has a field of
  w = N.bit_length() bits in one 64-bit counter (62 // w blocks per counter; one counter unless the
  design has very many non-empty blocks). A rank that has finished its coded block s adds 1 to its
  field and gets its position p (1 = first); the ranks with p ≤ N − s are block s's responders, in
  the order of p (the master's "first N − s arrivals", ``BlockScheme.first_responders``, without a
  master). The value returned is every block's count at once: with one counter each rank learns at
  its own finish whether the step is closed (every non-empty block has N − s finishers);
* ``done`` — with several counters, the rank that completes a counter's blocks adds 1 here, and the
  one that makes it the number of counters closes the step. The closing rank sets ``closed`` = its
  clock (``time.perf_counter``, system-wide on one machine, so a rank's stop latency is its stop time
  minus that value);
* ``s{n}`` — rank n's check-in: it stops at its next block boundary (or wakes from its emulated delay:
  a long-lived thread blocks on ``closed`` in a clone of the store) and writes its positions, one per
  block (0: not finished). One ``multi_get`` of ``closed`` and every ``s{n}`` (it waits for the keys)
  is at once the barrier "every rank stopped", who finished what (the all-gather of the protocol, by
  the store: one round trip where gloo's all-gather takes N − 1 hops) and the closure's clock.
  Only then do the collectives start, so a dead or hung rank can never hang them: a rank that has
  not checked in within ``stop_timeout`` (the step not closed within ``close_timeout``) ends the step
  on every live rank with :class:`RankTimeout`, naming the ranks that did not check in.

Per rank and step: one ``add`` per finished block (+ ``done`` and ``closed`` by the closing ranks),
one ``set`` and one ``multi_get``. The watching thread (one per rank for all steps; it also deletes
old rounds) blocks on ``closed`` only where a rank's own adds cannot tell it of the closure in time:
in an emulated delay, with several counters, or when the first block is not level 0 (the step can
then close before this rank's first finish).
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import queue
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

#: bits of a finish counter the fields may use (``Store.add`` adds to a signed 64-bit integer)
_BITS = 62

#: rounds kept before a round's keys are deleted: a rank in round r has seen every rank check in to
#: round r − 1, so nobody reads round r − 2 any more; one round more for a lagging watcher thread
_KEEP = 3


def _reason(exc: Exception) -> str:
    """A collective's error in a few words (gloo's first line, less its source path)."""
    return str(exc).splitlines()[0].split("] ", 1)[-1][:100]


class StepStore:
    """The store side of one rank for a design whose non-empty blocks are ``levels``: closing,
    stopping, who finished what, and the error naming a missing rank."""

    def __init__(self, store, rank, world, levels, close_timeout, stop_timeout, grace: float = 2.0):
        self.store, self.rank, self.world = store, rank, world
        self.levels = [int(s) for s in levels]
        self.instance = next(_INSTANCES)
        self.close_timeout, self.stop_timeout, self.grace = close_timeout, stop_timeout, grace
        self.width = int(world).bit_length()  # a field counts up to N finishers
        self.per_key = max(1, _BITS // self.width)
        self.counters = -(-len(self.levels) // self.per_key)
        # the closure is known from this rank's own adds with one counter and level 0 first (every rank
        # must finish block 0 before the step can close); else the watcher waits on ``closed`` all along
        self.eager = self.counters > 1 or self.levels[0] > 0
        self.closed = threading.Event()
        self.t, self.round = -1, -1
        self._jobs, self._watcher = None, None

    @property
    def blocks(self) -> int:
        return len(self.levels)

    def begin(self, t: int) -> None:
        """Step t: watch for its closure. Keys are per round (a counter of this object's steps, the
        same on every rank), so a step number used twice is safe."""
        self.advance(t)
        self.closed = threading.Event()
        self.positions, self.watching = np.zeros(self.blocks, dtype=np.int64), False
        if self._watcher is None:  # one thread for every step: no thread started per step
            self._jobs, self.gatherer = queue.SimpleQueue(), self.store.clone()
            self.gatherer.set_timeout(_delta(self.stop_timeout))  # its multi_get waits for every check-in
            self._watcher = threading.Thread(target=self._watch, args=(self.store.clone(),), daemon=True)
            self._watcher.start()
        if self.eager:
            self.watch()
        elif self.round % _KEEP == 0:
            self._jobs.put((self.round, None))  # no wait: old rounds deleted all the same

    def watch(self) -> None:
        """Have the watcher wake this round's sleeps at the closure (once per round)."""
        if not self.watching:
            self.watching = True
            self._jobs.put((self.round, self.closed))

    def advance(self, t: int) -> None:
        """Count step t's round (every rank alike) without touching the store: the level-0 path."""
        self.t, self.round = int(t), self.round + 1

    def _key(self, name: str, r: int | None = None) -> str:
        return f"bcgc/{self.instance}/{self.round if r is None else r}/{name}"

    def _watch(self, client) -> None:
        """The watcher: per round, delete the keys of round r − _KEEP, then block on ``closed``."""
        forgotten = -1
        while True:
            r, event = self._jobs.get()
            while not self._jobs.empty():  # a lagging watcher skips the rounds its rank has left
                r, event = self._jobs.get()
            for old in range(forgotten + 1, r - _KEEP + 1):
                self._forget(client, old)
            forgotten = max(forgotten, r - _KEEP)
            if event is None:
                continue
            try:
                client.wait([self._key("closed", r)], _delta(self.close_timeout + self.stop_timeout))
                event.set()
            except Exception:  # the step failed (or the store went away): the main thread reports it
                pass

    def _forget(self, client, r: int) -> None:
        """Round r's keys: each rank deletes its check-in, rank 0 the shared ones."""
        names = [f"s{self.rank}"]
        if self.rank == 0:
            names += [*(f"c{g}" for g in range(self.counters)), "done", "closed"]
        for name in names:
            try:
                client.delete_key(self._key(name, r))
            except Exception:
                return

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

    def finish(self, i: int) -> int:
        """Record this rank's block ``levels[i]`` as finished; its position (1 = first). Learns of
        the closure (one counter) and closes the step when this finish completes the last block."""
        g, f = divmod(i, self.per_key)
        step = 1 << (self.width * f)
        value = int(self._op(self.store.add, self._key(f"c{g}"), step))
        pos = self.positions[i] = (value >> (self.width * f)) & ((1 << self.width) - 1)
        if self._complete(g, value):
            if self.counters == 1:
                self.closed.set()  # every block has its finishers: stop at the next boundary
            # the add that completes the last counter closes the step (one counter: no need to count)
            if not self._complete(g, value - step) and (
                self.counters == 1 or int(self._op(self.store.add, self._key("done"), 1)) == self.counters
            ):
                self._op(self.store.set, self._key("closed"), repr(time.perf_counter()))
                self.closed.set()
        return pos

    def _complete(self, g: int, value: int) -> bool:
        """Every block of counter g has N − s finishers in ``value``."""
        mask = (1 << self.width) - 1
        levels = self.levels[g * self.per_key : (g + 1) * self.per_key]
        return all((value >> (self.width * f)) & mask >= self.world - s for f, s in enumerate(levels))

    def sleep_until(self, due: float) -> bool:
        """Sleep until ``due`` (perf_counter) unless the step closes first; True when due."""
        left = due - time.perf_counter()
        if left <= 0:
            return True
        self.watch()
        return not self.closed.wait(left)

    def stop(self, finished: bool = False) -> None:
        """Wait for the closure (if not yet: on the store itself, one wake-up fewer than through the
        watching thread), check in with this rank's positions, and read every rank's (waiting for
        them). A rank that ``finished`` all its blocks is at the stop already: it checks in at once
        (every rank checked in implies the step closed: a rank stops early only once it has)."""
        if not finished and not self.closed.is_set():
            try:
                self.store.wait([self._key("closed")], _delta(self.close_timeout))
            except dist.DistStoreError:
                self.missing("the step did not close", self.close_timeout)
        self.stopped_at = time.perf_counter()
        self._op(self.store.set, self._key(f"s{self.rank}"), ",".join(map(str, self.positions.tolist())))
        keys = [self._key("closed"), *(self._key(f"s{n}") for n in range(self.world))]
        try:
            values = self._op(self.gatherer.multi_get, keys)
        except dist.DistStoreError:
            self.missing("not every rank stopped", self.stop_timeout)  # raises
        self.closed_at = float(values[0].decode())
        self.every = np.array([[int(p) for p in v.decode().split(",")] for v in values[1:]], dtype=np.int64)

    def latency(self) -> tuple[float, float]:
        """(the closure's clock, seconds from it to this rank's stop), read by :meth:`stop`."""
        return self.closed_at, max(0.0, self.stopped_at - self.closed_at)  # 0: at the stop before the closure

    def responders(self) -> dict:
        """F_s for each level s: the ranks of positions 1..N − s, in that order (after :meth:`stop`)."""
        out = {}
        for i, s in enumerate(self.levels):
            pos = self.every[:, i]
            first = np.flatnonzero((pos > 0) & (pos <= self.world - s))
            out[s] = first[np.argsort(pos[first], kind="stable")]
        return out

    def missing(self, what: str, timeout: float, window: float | None = None):
        """Every live rank checks in under ``alive/``; the ranks not there within ``window`` s (default
        ``grace``) are named in the :class:`RankTimeout` raised."""
        self._op(self.store.set, self._key(f"alive/{self.rank}"), b"1")
        keys = [self._key(f"alive/{n}") for n in range(self.world)]
        try:
            self.store.wait(keys, _delta(self.grace if window is None else window))
        except dist.DistStoreError:
            pass  # a rank is missing: named below
        gone = [n for n, key in enumerate(keys) if not self._op(self.store.check, [key])]
        checked = ""
        if self._watcher is not None:  # the protocol ran: how far the step got
            count = sum(bool(self._op(self.store.check, [self._key(f"s{n}")])) for n in range(self.world))
            checked = f" ({count} of {self.world} ranks checked in)"
        raise RankTimeout(
            f"step {self.t} (round {self.round}): {what} within {timeout:g} s; rank(s) {gone} did not reach the stop "
            f"(dead or hung){checked}"
        )


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
