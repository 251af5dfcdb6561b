"""Every lab experiment in its quick form: a table, figures, results.json and a verdict."""

import json

import pytest

from honed import lab
from honed.lab.base import LabResult

# Quick forms whose verdict is PASS with 2 seeds (the measured claim holds even when short).
# regularization needs its 30 000 iterations to overfit, so its quick verdict is not asserted.
PASS_WHEN_QUICK = set(lab.names()) - {"regularization"}


@pytest.mark.parametrize("name", lab.names())
def test_quick_form_runs_and_reports(name, tmp_path):
    result = lab.run(name, seeds=2, quick=True)
    assert isinstance(result, LabResult) and result.name == name
    assert result.seeds == [0, 1]
    assert result.claim and (lab.get(name).__doc__ or "").strip()
    assert result.rows and all(len(row) == len(result.columns) for row in result.rows)
    assert result.figures and all(png.startswith(b"\x89PNG") for png in result.figures.values())
    text = result.text()
    assert result.verdict.word in text and "±" in text
    saved = json.loads((result.save(tmp_path) / "results.json").read_text())
    assert saved["verdict"]["passed"] == result.verdict.passed
    assert saved["table"] == result.table()
    for figure in result.figures:
        assert (tmp_path / f"{figure}.png").stat().st_size > 1000
    if name in PASS_WHEN_QUICK:
        assert result.verdict.passed, result.verdict.reason


def test_unknown_experiment_is_named():
    with pytest.raises(ValueError, match="experiment must be one of .*init.*got 'inti'"):
        lab.get("inti")


def test_defaults_are_the_notes_settings():
    init, reg, opt = lab.get("init"), lab.get("regularization"), lab.get("optimizers")
    assert init.DEFAULTS["sizes"] == [2, 10, 5, 1] and init.DEFAULTS["epochs"] == 15000
    assert init.DEFAULTS["lr"] == 0.01
    assert reg.DEFAULTS["sizes"] == [2, 20, 3, 1] and reg.DEFAULTS["epochs"] == 30000
    assert reg.DEFAULTS["lr"] == 0.3 and reg.DEFAULTS["l2"] == 0.7
    assert reg.DEFAULTS["keep_prob"] == 0.86
    assert opt.DEFAULTS["sizes"] == [2, 5, 2, 1] and opt.DEFAULTS["lr"] == 7e-4
    assert opt.DEFAULTS["batch_size"] == 64 and opt.DEFAULTS["epochs"] == 10000
