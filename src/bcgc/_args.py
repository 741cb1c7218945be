"""Argument types of the command line: each converts one option's text or raises
:class:`UsageError` with a message naming the option and its allowed values. Numeric options are
checked by the constraint objects of :mod:`bcgc._validate` (:func:`number`), so an option and the
API parameter behind it state the same range."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ._validate import InputError, Interval
from .timing.general import SIZES_TOLERANCE

__all__ = ["UsageError", "Parser", "number", "whole", "positive", "int_list", "model", "output_file", "LazyFile"]


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit code 2."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help says its default, or that it is required."""

    def _get_help_string(self, action):
        text = super()._get_help_string(action)
        if action.required and "(required)" not in text:
            text += " (required)"
        if action.default is False or action.default is None or isinstance(action, argparse._StoreConstAction):
            # flags, options without a default, and one-of-several switches (their text says which)
            text = text.replace(" (default: %(default)s)", "").replace(" (default: False)", "")
        return text


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # argparse's own errors: one line, exit 2
        command = self.prog.split()[-1]
        raise UsageError(message if command == "bcgc" else f"{command}: {message}")


def _plain(name, text):
    """Python also reads '1_000' and non-ASCII digits as numbers; a command line must not guess."""
    if "_" in text or not text.isascii():
        raise UsageError(f"{name} must be written with ASCII digits only (no '_'), got {text!r}")


def number(name, constraint):
    """The option ``name`` read as a number of ``constraint``'s type (an :class:`~bcgc._validate.Interval`)
    and checked by it: the message is the API's, with the option's name and the text as typed."""

    def conv(text):
        _plain(name, text)
        try:
            value = constraint.type(text)
        except ValueError:
            raise UsageError(constraint.message(name, text)) from None
        try:
            return constraint.check(name, value)
        except InputError:  # an integer as its value (huge ones abbreviated), a real as typed
            raise UsageError(constraint.message(name, value if constraint.type is int else text)) from None

    return conv


def whole(name, minimum=None, maximum=None):
    return number(name, Interval(int, minimum, maximum))


def positive(name, maximum=None):
    return number(name, Interval(float, 0, maximum, closed="neither" if maximum is None else "right"))


def int_list(name):
    def conv(text):
        parts = [v.strip() for v in text.split(",")]
        if any(v == "" for v in parts):
            raise UsageError(f"{name} must be comma-separated integers, e.g. 0,1,3, got an empty entry in {text!r}")
        for v in parts:
            _plain(name, v)
        try:
            return [int(v) for v in parts]
        except ValueError:
            raise UsageError(f"{name} must be comma-separated integers, e.g. 0,1,3, got {text[:80]!r}") from None

    return conv


def fraction_list(name):
    """Comma-separated numbers >= 0 summing to 1 (subset sizes), e.g. 0.3,0.3,0.2,0.2."""

    def conv(text):
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            values = []
        if (
            not values
            or any(not (v >= 0 and v < float("inf")) for v in values)
            or abs(sum(values) - 1) > SIZES_TOLERANCE
        ):
            raise UsageError(
                f"{name} must be comma-separated numbers >= 0 summing to 1, e.g. 0.3,0.3,0.2,0.2, got {text[:80]!r}"
            )
        return values

    return conv


def output_file(name):
    """A file the command will write: checked before any work (a run must not be lost at the end)."""

    def conv(text):
        path = Path(text)
        if not text or text.endswith(("/", os.sep)) or path.is_dir():
            raise UsageError(f"{name} must name a file, got {text!r}")
        if path.exists() and not path.is_file():
            raise UsageError(f"{name} {text!r} exists and is not a regular file")
        parent = path.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise UsageError(f"{name} {text!r}: the folder {str(parent)!r} does not exist or is not writable")
        if path.is_symlink() and not path.exists():
            raise UsageError(f"{name} {text!r} is a broken or looping symbolic link")
        if path.exists():
            try:  # append mode: proves writability without emptying the file
                open(path, "a").close()
            except OSError as exc:
                raise UsageError(f"{name} {text!r} is not writable ({exc.strerror or exc})") from None
        return text

    return conv


def model(text):
    # imported here, when --model is given: the laws need scipy.stats (seconds), which `bcgc --help`,
    # `--version` and the refusal of other options never import (issue 20: instant start-up)
    from .stragglers import parse_model

    try:
        return parse_model(text)
    except ValueError as exc:
        raise UsageError(f"--model: {exc}") from None


class LazyFile:
    """A text file written atomically: a temporary file of its own in the same folder, opened at the
    first write and moved onto ``path`` (``os.replace``) when the run ends well. Input refused before
    any output never truncates an existing file; two runs on one path never interleave (the last to
    finish wins, whole); an interrupted or failed run leaves ``path`` as it was and its partial
    output in ``path.partial``."""

    def __init__(self, path, name="--log"):
        self.path, self.name, self.fh, self.tmp = path, name, None, None

    def write(self, text):
        try:
            if self.fh is None:
                folder, base = os.path.split(os.path.abspath(self.path))
                fd, self.tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=folder)
                self.fh = os.fdopen(fd, "w")
            return self.fh.write(text)
        except OSError as exc:  # a full disk or a vanished folder: say which file
            raise OSError(f"{self.name} {self.path!r}: {exc.strerror or exc}") from None

    def flush(self):
        if self.fh is not None:
            self.fh.flush()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if self.fh is None:
            return False
        self.fh.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, 0o666 & ~umask)  # mkstemp makes 0600: give the log an ordinary file's mode
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            os.replace(self.tmp, f"{self.path}.partial")
            print(
                f"bcgc: {self.name} {self.path!r} is unchanged; this run's part is in {self.path}.partial",
                file=sys.stderr,
            )
        return False
