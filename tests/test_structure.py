"""The house rules that keep the code readable: small modules, short functions, and documentation
that never sends a reader to a file outside the repository."""

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "src" / "bcgc").rglob("*.py"))
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60


def _counted_lines(text: str) -> set:
    """Physical lines whose first token stands outside brackets: the code as written, whatever the
    formatter (``ruff format`` puts each argument of a long call, and the closing bracket, on a line
    of its own; those lines are not counted). Docstrings, comments and blank lines count."""
    depth, seen, counted = 0, 0, set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.start[0] > seen:  # the first token of its line
            seen = tok.end[0]
            if depth == 0:
                counted.update(range(tok.start[0], tok.end[0] + 1))  # a docstring: all its lines
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
    return counted & set(range(1, len(text.splitlines()) + 1))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT / "src")))
def test_modules_and_functions_stay_small(path):
    text = path.read_text()
    counted = _counted_lines(text)
    assert len(counted) <= MAX_MODULE_LINES, f"{path.name} has {len(counted)} lines"
    long = [
        f"{node.name} ({size} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and (size := len(counted & set(range(node.lineno, node.end_lineno + 1)))) > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_line_count_ignores_only_lines_inside_brackets():
    text = "x = f(\n    1,\n    2,\n)\n# a comment\n\ndef g():\n    return [1,\n            2]\n"
    assert _counted_lines(text) == {1, 5, 6, 7, 8}


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
