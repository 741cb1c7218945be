"""bcgc.progress: a bar on a terminal only when a command turns it on; silent in the library."""

import io
import json
import re
import sys

import pytest

from bcgc import progress
from bcgc.cli import main


def test_bar_fills_in_proportion():
    assert progress.bar(0, 4, width=8) == "[--------]"
    assert progress.bar(1, 4, width=8) == "[##------]"
    assert progress.bar(4, 4, width=8) == "[########]"
    assert progress.bar(9, 4, width=8) == "[########]"  # never past full


def test_silent_unless_shown(capsys):
    with progress.task("work", 3) as step:
        for _ in range(3):
            step("note")
    assert capsys.readouterr() == ("", "")


def test_steps_are_drawn_then_the_line_is_erased():
    out = io.StringIO()
    with progress.shown(True, "bcgc x", stream=out, ticker=False):
        with progress.task("reproduce", 4) as step:
            step("first")
            step("second")
    text = out.getvalue()
    assert "reproduce [#####---------------] step 1 of 4: first" in text
    assert "reproduce [##########----------] step 2 of 4: second" in text
    assert text.endswith("\r") and text.rsplit("\r", 2)[-2].strip() == ""  # erased at the end


def test_nested_task_appears_after_its_parent_and_leaves_with_it():
    out = io.StringIO()
    with progress.shown(True, stream=out, ticker=False) as display:
        with progress.task("fit", 6):
            with progress.task("family", 2) as inner:
                inner("lognormal")
                assert re.search(r"fit \[-+\] step 0 of 6 › family 1/2: lognormal$", display.line())
            assert display.line().endswith("fit [--------------------] step 0 of 6")


def test_label_shown_while_no_task_is_open():
    with progress.shown(True, "bcgc design", stream=io.StringIO(), ticker=False) as display:
        assert display.line().endswith("bcgc design …")


def test_disabled_display_is_a_no_op():
    out = io.StringIO()
    with progress.shown(False, stream=out) as display:
        with progress.task("x", 2) as step:
            step()
    assert display is None and out.getvalue() == ""


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_compare_shows_its_steps_on_a_terminal_only_and_never_with_json(capsys, monkeypatch, json_flag):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    args = ["compare", "-N", "4", "--coords", "100", "-m", "exponential:rate=1", "--samples", "1000", "--no-mm"]
    assert main([*args, *json_flag]) == 0
    out, err = capsys.readouterr()
    assert ("compare [" in err and "step 1 of" in err) == (not json_flag)
    if json_flag:
        assert err == "" and json.loads(out)["schemes"]


def test_nothing_on_stderr_when_it_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert main(["design", "-N", "4", "--coords", "100", "-m", "exponential:rate=1"]) == 0
    assert capsys.readouterr().err == ""
