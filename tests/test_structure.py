"""The house rules that keep the code readable: small modules, short functions, and documentation
that never sends a reader to a file outside the repository."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "src" / "bcgc").rglob("*.py"))
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT / "src")))
def test_modules_and_functions_stay_small(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name} has {len(text.splitlines())} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_no_reference_to_documents_outside_the_repository():
    pages = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *SOURCES,
        *sorted((ROOT / "benchmarks").glob("*")),
    ]
    hits = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in pages
        if p.is_file()
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"\bSPEC\b|\bSTYLE\b", line)
    ]
    assert not hits, f"references to SPEC/STYLE (not in the repository): {hits[:10]}"


def test_library_code_never_switches_the_matplotlib_backend():
    pattern = re.compile(r"matplotlib\.use\(|switch_backend|import matplotlib\.pyplot|from matplotlib import pyplot")
    hits = [p.name for p in SOURCES if pattern.search(p.read_text())]
    assert not hits, f"pyplot or matplotlib.use in library code: {hits}"
