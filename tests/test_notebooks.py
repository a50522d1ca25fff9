"""CI executes every notebook: they use only the public API and must run top to bottom."""

from __future__ import annotations

import pytest
from conftest import REPO

# Kernels start with MASHDEMAND_FAST_MODELS=1: default model sets without gbm, prophet, ucm.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fast_models")]

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    # the notebook holds no logic the package lacks: no function or class definitions
    for c in nb.cells:
        if c.cell_type == "code":
            assert "def " not in c.source and "class " not in c.source, c.source[:80]
