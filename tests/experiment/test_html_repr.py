"""Runs and lab results show as HTML in a notebook: the table and the figure."""

import pytest

pytest.importorskip("matplotlib")

from honed import lab  # noqa: E402
from honed.experiment import resolve_config  # noqa: E402
from honed.experiment.bundle import load_run  # noqa: E402
from honed.experiment.runs import train_experiment  # noqa: E402


def test_a_run_and_its_bundle(tmp_path):
    config = resolve_config(
        {
            "name": "moons_html",
            "data": {"dataset": "moons", "n_samples": 200},
            "model": {"hidden": [4]},
            "train": {"epochs": 2, "batch_size": 64},
        }
    )
    result = train_experiment(config, out=tmp_path, verbose=0)
    page = result._repr_html_()
    assert "<table>" in page and "<td>dev</td>" in page and "<td>test</td>" in page
    assert 'src="data:image/png;base64,' in page
    bundle = load_run(result.run_dir)
    page = bundle._repr_html_()
    assert result.run_dir.name in page and "<td>train</td>" in page and "<img" in page


def test_a_lab_result():
    result = lab.run("xor", seeds=1, quick=True)
    page = result._repr_html_()
    assert result.verdict.word in page and "<table><tr><th>" in page
    assert page.count("<img") == len(result.figures) >= 1
