import json
import math

import pytest

from honed.lab.base import LabResult, Verdict, all_checks, mean_sd, seeds_list


def test_mean_sd_uses_the_sample_sd():
    m, sd = mean_sd([1.0, 2.0, 3.0])
    assert m == 2.0 and math.isclose(sd, 1.0)
    assert mean_sd([4.0]) == (4.0, 0.0)


def test_all_checks_passes_only_when_every_check_holds():
    v = all_checks([(True, "a"), (False, "b")])
    assert not v.passed and v.reason == "a; NOT b" and str(v) == "FAIL: a; NOT b"
    assert all_checks([(True, "a")]).word == "PASS"


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
