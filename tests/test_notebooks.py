"""The example notebooks run from top to bottom (nbclient, the venv's own Python kernel)."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted((Path(__file__).parents[1] / "examples" / "notebooks").glob("*.ipynb"))


def test_there_are_three_notebooks_with_outputs_stripped():
    assert [p.name for p in NOTEBOOKS] == [
        "course_experiments.ipynb",
        "own_csv.ipynb",
        "population_search.ipynb",
    ]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    live = [c for c in nb.cells if c.cell_type == "code" and "verbose=2" in c.source]
    for cell in live:  # LivePlot: one picture, updated in place after every epoch
        pictures = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(pictures) == 1, f"{len(pictures)} pictures in a live cell"
        assert "epoch  40/40" in "".join(o.get("text", "") for o in cell.outputs)
    assert any(
        "image/png" in o.get("data", {}) or "text/html" in o.get("data", {}) for o in outputs
    )
