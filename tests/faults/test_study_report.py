"""The study report reads well: the sampler in words, a labelled colour bar for the points'
colours, and no point cut in half at the edge of its panel (the figure and the page in
headless Chromium)."""

import math

import pytest

from honed.plots.study_report import sampler_words, write_report
from honed.plots.tune import study_figure
from honed.tune import Study, optimize
from honed.tune.synthetic import bowl
from tests.pages import open_page, require_browser

SPACE = {
    "lr": {"log": [1e-4, 1]},
    "beta": {"one_minus_log": [0.9, 0.999]},
    "bs": {"choice": [64, 128, 256]},
}
ZOOM = {"name": "zoom", "stages": 2, "top_k": 4}


@pytest.fixture(scope="module")
def study_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "s.journal"
    optimize(bowl, SPACE, 24, path, sampler=ZOOM, executor="inprocess", progress=False)
    return path


def test_the_sampler_is_shown_in_words():
    assert sampler_words({"name": "random", "seed": None}) == "random"
    words = sampler_words({"name": "zoom", "stages": 2, "top_k": 4, "fractions": None})
    assert words == "zoom (stages 2, top k 4)"


def test_the_points_colours_have_a_labelled_colour_bar(study_file):
    fig = study_figure(Study(study_file))
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == len(SPACE)  # one beside each parameter's panel
    assert all(bar.get_ylabel() == "trial number" for bar in bars)


def test_points_on_the_ends_of_a_range_are_drawn_whole(study_file):
    fig = study_figure(Study(study_file))
    panels = {ax.get_xlabel().split(" ")[0]: ax for ax in fig.axes if ax.get_xlabel()}
    lo, hi = sorted(panels["lr"].get_xlim())
    assert lo < 1e-4 and hi > 1  # the search range, and a margin past each end
    lo, hi = sorted(panels["beta"].get_xlim())  # drawn on 1 - beta
    assert lo < 1e-3 and hi > 0.1
    lo, hi = panels["bs"].get_xlim()
    assert lo < 0 and hi > 2  # the first and last choice are inside the panel
    assert math.isclose(hi - 2, 0 - lo)


def test_the_report_page_in_chromium_names_the_sampler_in_words(study_file, tmp_path):
    require_browser()
    page = write_report(Study(study_file), tmp_path / "report.html")
    check = open_page(page, tmp_path / "report.png")
    assert check.broken_images == [] and check.console_errors == []
    assert "sampler zoom (stages 2, top k 4, margin 0.1, budget 24); seed 0" in check.text
    assert "{" not in check.text and "'name'" not in check.text
