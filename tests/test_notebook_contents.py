"""The committed notebooks, as an analyst opens them in JupyterLab or on GitHub.

They are executed by ``tests/test_notebooks.py`` (slow tier); these checks read the files only.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _code(path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_uses_the_public_api_and_inline_charts(path) -> None:
    """Before: every notebook forced the Agg backend (no inline charts) and imported
    internals such as ``mashdemand.forecast.counts.read_counts``."""
    for cell in _code(path):
        src = "".join(cell["source"])
        assert "matplotlib.use" not in src, src[:80]
        for line in src.splitlines():
            if re.match(r"\s*(from|import)\s+mashdemand", line):
                assert line.strip() == "import mashdemand as md", line


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_with_its_outputs(path) -> None:
    """Before: committed without outputs, so they read as bare code on GitHub."""
    cells = _code(path)
    ran = [c for c in cells if c.get("execution_count") is not None]
    assert len(ran) == len(cells), "every code cell executed, in order"
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1))
    outputs = [o for c in cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "at least one chart shown inline"
