import json
import math

import pytest

from honed.lab.base import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    LabResult,
    Verdict,
    all_checks,
    level,
    mean_sd,
    paired,
    seeds_list,
)


def test_mean_sd_uses_the_sample_sd():
    m, sd = mean_sd([1.0, 2.0, 3.0])
    assert m == 2.0 and math.isclose(sd, 1.0)
    assert mean_sd([4.0]) == (4.0, 0.0)


def test_all_checks_passes_only_when_every_check_holds():
    v = all_checks([(True, "a"), (False, "b")])
    assert not v.passed and v.reason == "a; NOT b" and str(v) == "FAIL: a; NOT b"
    assert all_checks([(True, "a")]).word == "PASS"


def test_one_failed_check_outweighs_an_undecided_one():
    v = all_checks([(INCONCLUSIVE, "a"), (True, "b")])
    assert v.word == INCONCLUSIVE and not v.passed and v.reason == "UNDECIDED a; b"
    v = all_checks([(INCONCLUSIVE, "a"), (False, "b")])
    assert v.word == FAIL and v.reason == "UNDECIDED a; NOT b"
    with pytest.raises(ValueError, match="outcome must be PASS, FAIL or INCONCLUSIVE"):
        Verdict("MAYBE", "x")


def test_paired_rule_reads_the_differences_seed_by_seed():
    # worked by hand: d = [2, 3, 4] → mean 3, sd 1, SE 1/√3 = 0.577; 3 − 2·0.577 > 0
    outcome, why = paired([12.0, 13.0, 14.0], [10.0, 10.0, 10.0], "A above B", scale=1, unit="")
    assert outcome == PASS and why == (
        "A above B in 3/3 seeds, paired difference +3 ± 0.58 (mean ± SE) > 0"
    )
    # the same means, unpaired noise: d = [5, -3, 7] → mean 3, SE 3.06: within the spread
    outcome, why = paired([15.0, 7.0, 17.0], [10.0, 10.0, 10.0], "A above B", scale=1, unit="")
    assert outcome == INCONCLUSIVE and "in 2/3 seeds" in why
    # clearly the other way
    assert paired([1.0, 1.1, 0.9], [2.0, 2.0, 2.1], "A above B")[0] == FAIL
    # seeds agree perfectly: no spread, the sign decides
    assert paired([0.5, 0.5], [0.4, 0.4], "A above B")[0] == PASS
    # one seed has no spread to judge by; a missing value decides nothing
    assert paired([0.9], [0.1], "A above B")[0] == INCONCLUSIVE
    assert paired([0.9, float("nan")], [0.1, 0.1], "A above B")[0] == INCONCLUSIVE


def test_paired_margin_claims_no_worse_than():
    # A is 1 point worse in every seed: not worse by more than 3 points, but not better
    a, b = [0.90, 0.91, 0.89], [0.91, 0.92, 0.90]
    assert paired(a, b, "A no worse", margin=-0.03)[0] == PASS
    assert paired(a, b, "A better")[0] == FAIL
    assert "> -3 points" in paired(a, b, "A no worse", margin=-0.03)[1]


def test_level_rule_against_a_threshold():
    assert level([0.97, 0.98, 0.96], 0.9, "accuracy")[0] == PASS
    assert level([0.5, 0.5], 0.9, "accuracy")[0] == FAIL
    assert level([0.99, 0.85, 0.95], 0.9, "accuracy")[0] == INCONCLUSIVE
    outcome, why = level([1.0, 2.0], 5.0, "error", above=False, scale=1, unit=" °F")
    assert outcome == PASS and why == "error 1.5 ± 0.5 °F (mean ± SE) < 5 °F (2/2 seeds)"


def test_seeds_list():
    assert seeds_list(3) == [0, 1, 2] and seeds_list([5, 9]) == [5, 9]
    with pytest.raises(ValueError, match="seeds must be >= 1, got 0"):
        seeds_list(0)


def test_table_formats_percent_columns_and_json_has_no_nan(tmp_path):
    r = LabResult(
        name="x",
        claim="c",
        settings={"a": 1},
        columns=["v", "acc", "cost"],
        rows=[["one", (0.5, 0.1), (float("nan"), 0.0)]],
        measurements={"acc": [float("nan")]},
        figures={},
        verdict=Verdict(True, "ok"),
        seeds=[0],
        percent=("acc",),
    )
    assert r.table() == [["one", "50.0 ± 10.0%", "nan ± 0"]]
    saved = json.loads((r.save(tmp_path) / "results.json").read_text())
    assert saved["measurements"]["acc"] == [None]
    assert saved["verdict"] == {"outcome": "PASS", "passed": True, "reason": "ok"}
    assert saved["quick"] is False and r.text().startswith("x (full): mean ± sd")


def test_notebook_view_colours_each_outcome_apart():
    def html(outcome):
        r = LabResult(
            name="x",
            claim="c",
            settings={},
            columns=["v"],
            rows=[["one"]],
            measurements={},
            figures={},
            verdict=Verdict(outcome, "why"),
            seeds=[0],
        )
        return r._repr_html_()

    colours = {o: html(o).split("color:")[1].split('"')[0] for o in (PASS, FAIL, INCONCLUSIVE)}
    assert len(set(colours.values())) == 3
    assert f">{INCONCLUSIVE}</b>: why" in html(INCONCLUSIVE)
