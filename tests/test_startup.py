"""Start-up (issue 20): the command line imports the core a command needs only when that command
runs, so `bcgc --help`, `--version`, `bcgc design --help` and refused input start at once. Checked
on what is imported (sys.modules in a fresh interpreter), never on a clock."""

import json
import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "scipy.optimize", "scipy.special", "matplotlib", "ray", "torch")

PROBE = """
import json, sys
from bcgc.cli import main
code = None
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help and --version end in argparse's exit
    code = exc.code
print(json.dumps({"code": code, "heavy": [m for m in %r if m in sys.modules]}), file=sys.stderr)
"""


def _imports(args):
    out = subprocess.run([sys.executable, "-c", PROBE % (HEAVY,), *args], capture_output=True, text=True, timeout=60)
    return json.loads(out.stderr.strip().splitlines()[-1]), out.stdout


def test_importing_the_command_line_imports_no_heavy_module():
    code = f"import sys, bcgc.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


REFUSED_OR_HELP = [
    (["--version"], 0),
    (["--help"], 0),
    (["design", "--help"], 0),
    (["evaluate", "--help"], 0),
    (["compare", "--help"], 0),
    (["recommend", "--help"], 0),
    (["fit", "--help"], 0),
    (["simulate", "--help"], 0),
    (["train", "--help"], 0),
    (["reproduce", "--help"], 0),
    (["profile", "--help"], 0),
    (["train", "-N", "-3"], 2),
    (["design", "-N", "-3"], 2),
    (["nosuchcommand"], 2),
]

#: every case in turn in ONE fresh interpreter (a process each cost ~0.4 s of CPU, 14 times): the
#: heavy modules are read after each call from the whole sys.modules, so a case that imports one
#: fails, and so does every later case (a module once imported stays)
SEQUENCE = """
import contextlib, io, json, sys
from bcgc.cli import main
out = sys.stdout
for args in json.loads(sys.argv[1]):
    code, buffer = None, io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
            code = main(args)
    except SystemExit as exc:  # --help and --version end in argparse's exit
        code = exc.code
    seen = {"code": code, "heavy": [m for m in %r if m in sys.modules]}
    print(json.dumps({"seen": seen, "stdout": buffer.getvalue()}), file=out)
"""


@pytest.fixture(scope="module")
def sequence():
    cases = json.dumps([args for args, _ in REFUSED_OR_HELP])
    out = subprocess.run(
        [sys.executable, "-c", SEQUENCE % (HEAVY,), cases], capture_output=True, text=True, timeout=60, check=True
    )
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(results) == len(REFUSED_OR_HELP), out.stderr
    return results


@pytest.mark.parametrize("case", range(len(REFUSED_OR_HELP)), ids=[" ".join(a) for a, _ in REFUSED_OR_HELP])
def test_help_version_and_refusals_import_no_heavy_module(sequence, case):
    args, code = REFUSED_OR_HELP[case]
    seen, stdout = sequence[case]["seen"], sequence[case]["stdout"]
    assert seen == {"code": code, "heavy": []}
    if args == ["--help"]:  # every command is listed with its line, though none was imported
        assert all(name in stdout for name in ("design", "simulate", "train", "reproduce", "fit", "profile"))


def test_a_command_that_runs_imports_what_it_needs():
    """The probe can fail: a design that runs does import its solver (scipy.optimize's HiGHS), but not
    scipy.stats (0.5 s): the shifted exponential computes what a design asks of it without it."""
    seen, _ = _imports(["design", "-N", "3", "-L", "6", "-m", "shifted-exponential:shift=1,rate=1", "--json"])
    assert seen["code"] == 0 and "scipy.optimize" in seen["heavy"] and "scipy.stats" not in seen["heavy"]
    seen, _ = _imports(["design", "-N", "3", "-L", "6", "-m", "lognormal:mu=0,sigma=1", "--json"])
    assert seen["code"] == 0 and "scipy.stats" in seen["heavy"]  # a scipy-backed law loads it on first use


def test_no_submodule_shadows_a_name_its_package_exports():
    """A package that imports its names at first use (PEP 562) must not have a submodule of the same
    name: importing the submodule first would bind the package's attribute to it."""
    code = """
import importlib, pkgutil, sys, types, bcgc
# walk_packages would import bcgc.torch (and PyTorch) to look inside it: skip before importing
def walk(path, prefix):
    for m in pkgutil.iter_modules(path, prefix):
        if m.name.startswith(("bcgc.torch", "bcgc.runtime.ray")) or m.name.endswith("__main__"):
            continue
        yield m.name
        if m.ispkg:
            yield from walk(importlib.import_module(m.name).__path__, m.name + ".")
mods = list(walk(bcgc.__path__, "bcgc."))
for name in mods:
    importlib.import_module(name)
assert "torch" not in sys.modules and len(mods) > 100, (len(mods), "torch" in sys.modules)
bad = []
for name in mods:
    pkg = importlib.import_module(name)
    for attr in getattr(pkg, "__all__", ()):
        if isinstance(getattr(pkg, attr), types.ModuleType):
            bad.append(name + "." + attr)
for fn in ("bcgc.schemes.runnable", "bcgc.runtime.train"):
    pkg, _, attr = fn.rpartition(".")
    if not callable(getattr(importlib.import_module(pkg), attr)):
        bad.append(fn)
print(bad)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
