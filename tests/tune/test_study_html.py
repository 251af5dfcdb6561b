"""A study shows as HTML in a notebook: counts per state, the best trials, its figure."""

import pytest

pytest.importorskip("matplotlib")

from honed.tune import optimize  # noqa: E402


def _objective(trial):
    return (trial.params["lr"] - 0.01) ** 2


def test_study_repr_html(tmp_path):
    study = optimize(
        _objective,
        {"lr": {"log": [1e-4, 1]}},
        n_trials=6,
        storage_path=tmp_path / "s.journal",
        study_name="html",
        executor="inprocess",
        progress=False,
    )
    page = study._repr_html_()
    assert "study html (minimize)" in page and "6 complete" in page
    assert page.count("<tr>") == 1 + 5  # header and the five best trials
    best = study.best_trial
    assert f"<td>{best.number}</td>" in page
    assert 'src="data:image/png;base64,' in page
