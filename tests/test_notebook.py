"""The walkthrough notebook runs top to bottom (reduced mode: SNNHW_NOTEBOOK_QUICK=1)."""

from __future__ import annotations

import os
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "walkthrough.ipynb"


def test_walkthrough_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "commit it without outputs"
    monkeypatch.setenv("SNNHW_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=dict(os.environ))
    text = "\n".join(out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", []))
    assert "bit-exact on 5 samples" in text
    assert "µs per sample" in text
    assert "top-1 agreement" in text and "leak shift:3" in text  # the snnTorch → NIR section
    assert any("image/png" in out.get("data", {}) for cell in notebook.cells for out in cell.get("outputs", []))
