"""Argument types of the command line: each converts one option's text or raises
:class:`UsageError` with a message naming the option and its allowed values."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from .stragglers import parse_model
from .timing.general import SIZES_TOLERANCE

__all__ = ["UsageError", "Parser", "whole", "positive", "int_list", "model", "output_file", "LazyFile"]


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


def whole(name, minimum=None, maximum=None):
    def conv(text):
        _plain(name, text)
        rng = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        try:
            value = int(text)
        except ValueError:
            raise UsageError(f"{name} must be an integer{'' if minimum is None else ' ' + rng}, got {text!r}") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise UsageError(f"{name} must be an integer {rng}, got {value}")
        return value

    return conv


def positive(name, maximum=None):
    def conv(text):
        _plain(name, text)
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{name} must be a number > 0, got {text!r}") from None
        if not (value > 0) or not math.isfinite(value):
            raise UsageError(f"{name} must be a finite number > 0, got {text}")
        if maximum is not None and value > maximum:
            raise UsageError(f"{name} must be a number in (0, {maximum:g}], got {text}")
        return value

    return conv


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
    try:
        return parse_model(text)
    except ValueError as exc:
        raise UsageError(f"--model: {exc}") from None


class LazyFile:
    """A text file opened for writing at its first write, so that input refused before any
    output never truncates an existing file or leaves an empty one."""

    def __init__(self, path, name="--log"):
        self.path, self.name, self.fh = path, name, None

    def write(self, text):
        try:
            if self.fh is None:
                self.fh = open(self.path, "w")
            return self.fh.write(text)
        except OSError as exc:  # a full disk or a vanished folder: say which file
            raise OSError(f"{self.name} {self.path!r}: {exc.strerror or exc}") from None

    def flush(self):
        if self.fh is not None:
            self.fh.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.fh is not None:
            self.fh.close()
        return False
