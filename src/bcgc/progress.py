"""Progress of long work, shown as a bar on a terminal (README.md, "Command line").

The library announces its steps with :func:`task` (``with task("compare", n) as step: ... step()``);
that costs nothing and prints nothing unless a command line has turned a display on with
:func:`shown` — which the CLI does only when stderr is a terminal and ``--json`` is not given, so a
pipe, a log file or a JSON consumer never sees a byte of it. Nested tasks are shown one after the
other on the same line (``reproduce: step 3 of 40 › compare 2/9``); the line is erased at the end.
Per thread of control (a ``contextvars`` variable): worker threads see no display.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading
import time

__all__ = ["Display", "shown", "task", "bar"]

#: the display of the running command, or None (the library's default: silent)
_DISPLAY: contextvars.ContextVar = contextvars.ContextVar("bcgc_progress", default=None)


def bar(done: int, total: int, width: int = 20) -> str:
    """``[#####-----]``: ``done`` of ``total`` as a bar of ``width`` cells (full when total ≤ 0)."""
    filled = width if total <= 0 else min(width, max(0, int(width * done / total)))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


class Display:
    """One status line on ``stream``: the elapsed seconds and the open tasks, redrawn at most every
    ``interval`` seconds (at every step of the outermost task, and by a ticker thread so that the
    seconds run during a long step), erased by :meth:`close`."""

    def __init__(self, stream, label: str = "", interval: float = 0.5):
        self.stream, self.label, self.interval = stream, label, interval
        self.stack: list[list] = []  # [label, done, total, note] per open task, outermost first
        self.t0, self.last, self.width = time.perf_counter(), -1.0, 0
        self.lock, self.done = threading.Lock(), threading.Event()

    def line(self) -> str:
        parts = []
        for i, (label, done, total, note) in enumerate(self.stack):
            if not total:
                count = f"{done}"
            elif i == 0:  # the command's own steps: a bar
                count = f"{bar(done, total)} step {done} of {total}"
            else:
                count = f"{done}/{total}"
            parts.append(f"{label} {count}" + (f": {note}" if note else ""))
        head = f"[{time.perf_counter() - self.t0:6.1f} s] "
        return head + " › ".join(parts or [f"{self.label} …"])

    def draw(self, force: bool = False) -> None:
        with self.lock:
            now = time.perf_counter()
            if self.done.is_set() or (not force and now - self.last < self.interval):
                return
            self.last = now
            text = self.line()
            pad = max(0, self.width - len(text))
            self.width = len(text)
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()

    def tick(self) -> None:
        """Redraw every ``interval`` seconds until :meth:`close` (run in a daemon thread)."""
        while not self.done.wait(self.interval):
            self.draw(force=True)

    def close(self) -> None:
        with self.lock:
            self.done.set()
            if self.width:
                self.stream.write("\r" + " " * self.width + "\r")
                self.stream.flush()
            self.width = 0


@contextlib.contextmanager
def shown(enabled: bool = True, label: str = "", stream=None, ticker: bool = True):
    """Turn the display on for the work inside (``enabled`` False: a no-op); ``label`` is shown
    while no task is open. The CLI passes ``stderr.isatty() and not --json``."""
    if not enabled:
        yield None
        return
    display = Display(sys.stderr if stream is None else stream, label)
    token = _DISPLAY.set(display)
    thread = threading.Thread(target=display.tick, daemon=True) if ticker else None
    if thread is not None:
        thread.start()
    try:
        yield display
    finally:
        _DISPLAY.reset(token)
        display.close()
        if thread is not None:
            thread.join()


class _Step:
    """The callable a :func:`task` yields: ``step(note="")`` counts one step done."""

    __slots__ = ("display", "entry")

    def __init__(self, display, entry):
        self.display, self.entry = display, entry

    def __call__(self, note: str = "") -> None:
        if self.display is None:
            return
        with self.display.lock:
            self.entry[1] += 1
            self.entry[3] = note
        self.display.draw(force=self.display.stack[0] is self.entry)


@contextlib.contextmanager
def task(label: str, total: int = 0):
    """A unit of work of ``total`` steps (0: unknown); yields ``step``, to be called after each.
    Silent (a no-op) unless a display is on (:func:`shown`)."""
    display = _DISPLAY.get()
    if display is None:
        yield _Step(None, None)
        return
    entry = [label, 0, int(total), ""]
    with display.lock:
        display.stack.append(entry)
    display.draw(force=display.stack[0] is entry)
    try:
        yield _Step(display, entry)
    finally:
        with display.lock:
            display.stack.remove(entry)
