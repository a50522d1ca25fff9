"""``--help`` text: paragraphs wrap to the terminal, never at the docstring's own line breaks."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mashdemand.cli import app, unwrap_help

COMMANDS = [
    ["ingest"],
    ["forecast"],
    ["staffing"],
    ["fms-appendix"],
    ["report", "quarterly"],
    ["store", "remove-hub"],
]


def _help(args: list[str], width: int) -> list[str]:
    runner = CliRunner()
    res = runner.invoke(app, [*args, "--help"], env={"COLUMNS": str(width), "TERM": "dumb"})
    assert res.exit_code == 0, res.output
    return res.output.splitlines()


def _body(lines: list[str]) -> list[str]:
    """The description lines between the usage line and the first option box."""
    out = []
    for line in lines[1:]:
        if line.lstrip().startswith(("╭", "+-", "Options", "Arguments")):
            break
        out.append(line.strip())
    return out


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_help_paragraphs_fill_a_wide_terminal(args: list[str]) -> None:
    # At 200 columns no description line of a docstring wrapped at ~95 columns may end
    # early: every line but a paragraph's last is longer than 100 characters.
    body = _body(_help(args, 200))
    paragraphs: list[list[str]] = [[]]
    for line in body:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    assert sum(len(p) for p in paragraphs) > 0
    for para in paragraphs:
        for line in para[:-1]:
            assert len(line) > 100, f"{' '.join(args)} --help breaks early: {line!r}"


def test_staffing_help_does_not_break_mid_sentence_at_80_columns() -> None:
    text = " ".join(_body(_help(["staffing"], 80)))
    assert "plans at the given quantile, finds the smallest roster" in " ".join(text.split())
    lines = [ln for ln in _body(_help(["staffing"], 80)) if ln]
    # Filled lines: at most one short line (the paragraph's last) per paragraph.
    assert sum(len(ln) < 50 for ln in lines) <= 2


def test_unwrap_help_keeps_paragraphs_and_list_items() -> None:
    text = "Title line.\n\n    First para\n    goes on.\n\n    - item one\n    - item two\n"
    assert unwrap_help(text) == "Title line.\n\nFirst para goes on.\n\n- item one\n- item two"
