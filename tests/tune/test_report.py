"""The HTML study report: opened in headless Chromium, as a person would."""

from dataclasses import replace
from pathlib import Path

from honed.plots.study_report import edge_warnings, importances, write_report
from honed.tune import Study, SuccessiveHalvingPruner, optimize
from honed.tune.synthetic import curves
from tests.pages import open_page, require_browser

SPACE = {
    "x": {"uniform": [0, 1]},
    "lr": {"log": [1e-4, 1]},
    "beta": {"one_minus_log": [0.9, 0.999]},
}


def _study(tmp_path):
    pruner = SuccessiveHalvingPruner(min_trials=2)
    return optimize(
        curves,
        SPACE,
        24,
        tmp_path / "s.journal",
        sampler="zoom",
        executor="inprocess",
        pruner=pruner,
        progress=False,
    )


def test_importance_finds_the_parameter_that_matters_and_edges_are_flagged(tmp_path):
    study = _study(tmp_path)
    imp = importances(study)
    assert max(imp, key=imp.get) == "x"  # curves() depends on x alone
    assert abs(sum(imp.values()) - 1) < 1e-9
    best = study.best_trial
    at_edges = replace(best, params={**best.params, "x": 0.01, "lr": 0.9, "beta": 0.9005})
    warnings = edge_warnings(study, at_edges)
    assert [w.split(":")[0] for w in warnings] == ["x", "lr", "beta"]
    assert "lower edge" in warnings[0] and "upper edge" in warnings[1]
    assert "lower edge" in warnings[2]  # β near 0.9: the low end of β, not of 1-β
    inside = replace(best, params={**best.params, "x": 0.5, "lr": 0.01, "beta": 0.99})
    assert edge_warnings(study, inside) == []


def test_html_report_opens_in_chromium(tmp_path):
    require_browser()
    study = _study(tmp_path)
    page = write_report(Study(tmp_path / "s.journal"), tmp_path / "report.html")
    text = Path(page).read_text()
    assert "http" not in text.replace("http-equiv", "")  # self-contained: nothing to fetch
    check = open_page(page, tmp_path / "report.png")
    assert check.images == 4 and check.broken_images == []
    assert check.console_errors == []
    assert check.distinct_colours > 50
    assert f"Study {study.name}" in check.text and "Best: trial #" in check.text
