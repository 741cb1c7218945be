"""Every command of ``bcgc``: the module that holds its parser (``register(sub)``; its ``COMMANDS``
maps the command to the module and function that run it), and its line in ``bcgc --help``.

A command's parser module is imported only when that command is given, and what it runs only once
its arguments are parsed: ``bcgc --help``, ``--version``, ``bcgc CMD --help`` and refused input
never import the core they do not need (issue 20: instant start-up)."""

from __future__ import annotations

__all__ = ["COMMANDS", "add"]

#: command -> (parser module in bcgc.cli, help line), in the order ``bcgc --help`` lists them
COMMANDS = {
    "design": ("design_cmds", "design the block sizes x"),
    "evaluate": ("design_cmds", "E[τ] and P(τ ≤ t) of given blocks"),
    "compare": ("design_cmds", "BCGC, bcgc_mm and every peer scheme side by side"),
    "simulate": ("run_cmds", "coded gradient descent on real data in virtual time"),
    "train": ("run_cmds", "the real distributed runtime (Ray, or threads)"),
    "reproduce": ("run_cmds", "regenerate the paper's evaluation and more: PNG + CSV + index.md"),
    "recommend": ("recommend_cmd", "the fastest exact scheme for a law (or trace) and a network"),
    "fit": ("fit_cmd", "fit a straggler law to traces or a training log; print its --model text"),
    "profile": ("torch_cmd", "measure a PyTorch model's forward and per-tensor backward costs (a cost document)"),
}


def add(sub, name: str, **kwargs):
    """The parser of command ``name``, with its help line."""
    return sub.add_parser(name, help=COMMANDS[name][1], **kwargs)
