"""What ``bcgc train`` writes besides its table: the trained parameters (--save), checkpoints
(--checkpoint, --checkpoint-every, --resume), per-iteration metrics as CSV (--metrics-csv) and
TensorBoard scalars (--tensorboard), and progress on a terminal (docs/runtime.md, "The update rule,
parameters and checkpoints")."""

from __future__ import annotations

import csv
import sys

from .. import _validate as V
from .._args import LazyFile, UsageError, output_file, whole
from ..schemes.running import runtime_schemes

__all__ = ["output_options", "scheme_list", "checkpoints", "Outputs"]

#: the CSV's first columns; the problem's metrics() keys follow
CSV_COLUMNS = ("iteration", "scheme", "loss", "measured_seconds", "predicted_seconds")


def scheme_list(text: str):
    """--scheme: ``all`` or a comma-separated list of runnable schemes (a tuple)."""
    if text == "all":
        return "all"
    names = tuple(s.strip() for s in text.split(","))
    allowed = runtime_schemes()
    bad = [s for s in names if s not in allowed]
    if bad or len(set(names)) != len(names):
        raise UsageError(
            f"--scheme must be all or a comma-separated list of distinct schemes among {', '.join(allowed)}, got {text!r}"
        )
    return names


def output_options(t) -> None:
    """Add --save, --checkpoint, --checkpoint-every, --resume, --metrics-csv and --tensorboard."""
    t.add_argument(
        "--save",
        type=output_file("--save"),
        help="write the trained parameters to this file (.npy; a problem with save() writes its own format)",
    )
    t.add_argument("--checkpoint", type=output_file("--checkpoint"), help="write a checkpoint to this file")
    t.add_argument(
        "--checkpoint-every",
        type=whole("--checkpoint-every", 1, V.MAX_ITERATIONS),
        metavar="K",
        help="with --checkpoint: every K iterations (and after the last; default: after the last only)",
    )
    t.add_argument(
        "--resume", metavar="PATH", help="continue from this checkpoint to --iterations in all (same scheme, seed)"
    )
    t.add_argument(
        "--metrics-csv",
        type=output_file("--metrics-csv"),
        help="write per-iteration iteration, scheme, loss, measured and predicted seconds and the problem's metrics",
    )
    t.add_argument(
        "--tensorboard", metavar="DIR", help="write TensorBoard scalars here (needs torch.utils.tensorboard)"
    )


def checkpoints(a, schemes):
    """The run's :class:`~bcgc.runtime.checkpoint.Checkpoints` (or None), the options checked."""
    from ..runtime.checkpoint import Checkpoints

    if a.checkpoint_every is not None and a.checkpoint is None:
        raise UsageError("--checkpoint-every needs --checkpoint PATH")
    single = [o for o, v in (("--save", a.save), ("--checkpoint", a.checkpoint), ("--resume", a.resume)) if v]
    if single and len(schemes) != 1:
        raise UsageError(f"{single[0]} applies to one scheme: pick it with --scheme NAME")
    if a.checkpoint is None:
        return None
    return Checkpoints(a.checkpoint, a.checkpoint_every or V.MAX_ITERATIONS)


class Outputs:
    """The per-iteration sinks of a run: progress on a terminal, the CSV, TensorBoard. Called as
    ``progress(name, it, total, rec)``; a context manager that closes its files."""

    def __init__(self, a, terminal: bool):
        self.terminal = terminal and not a.json and sys.stderr.isatty()
        self.csv_file = LazyFile(a.metrics_csv, "--metrics-csv") if a.metrics_csv else None
        self.writer, self.board = None, _board(a.tensorboard) if a.tensorboard else None

    def __call__(self, name, it, total, rec):
        metrics = rec.get("metrics") or {}
        if self.terminal:
            extra = "".join(f", {k} {v:.4g}" for k, v in metrics.items())
            print(
                f"\rscheme {name}: iteration {it + 1}/{total}, loss {rec['loss']:.5g}{extra}, "
                f"last {rec['measured_seconds']:.3f}s (predicted {rec['predicted_seconds']:.3f}s)   ",
                end="",
                file=sys.stderr,
                flush=True,
            )
        row = {"iteration": it, "scheme": name, **{k: rec[k] for k in CSV_COLUMNS[2:]}, **metrics}
        if self.csv_file is not None:
            if self.writer is None:
                self.writer = csv.DictWriter(
                    self.csv_file, [*CSV_COLUMNS, *metrics], extrasaction="ignore", lineterminator="\n"
                )
                self.writer.writeheader()
            self.writer.writerow(row)
            self.csv_file.flush()
        if self.board is not None:
            for key, value in row.items():
                if key not in ("iteration", "scheme"):
                    self.board.add_scalar(f"{name}/{key}", value, it)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.terminal:
            print(file=sys.stderr)
        if self.csv_file is not None:
            self.csv_file.__exit__(*exc)
        if self.board is not None:
            self.board.close()
        return False


def _board(folder):
    """A TensorBoard writer, or None with a note when torch.utils.tensorboard cannot be imported."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        print(f"bcgc: --tensorboard skipped: torch.utils.tensorboard is not importable ({exc})", file=sys.stderr)
        return None
    return SummaryWriter(log_dir=folder)
