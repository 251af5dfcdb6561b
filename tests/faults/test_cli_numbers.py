"""Option values: refused with exit 1 naming the option, before anything is done."""

import pytest

BAD_VALUES = [
    # (command line before the option, option, bad value)
    *[(["tune", "EXP"], "--trials", v) for v in ["0", "-1", "abc", "1.5", ""]],
    *[(["tune", "EXP"], "--workers", v) for v in ["0", "-2", "x", "2.5"]],
    *[(["study", "show", "S.sqlite"], "--top", v) for v in ["-1", "0", "x"]],
    *[(["gradcheck", "EXP"], "--batch", v) for v in ["0", "-1", "x", "nan"]],
    *[(["gradcheck", "EXP"], "--steps", v) for v in ["-1", "y"]],
    *[(["gradcheck", "EXP"], "--per-tensor", v) for v in ["0", "-3"]],
    *[(["diagnose"], "--threshold", v) for v in ["nan", "inf", "-inf", "-0.1", "2", "x"]],
    *[(["diagnose", "--dev-error", "0.1"], "--train-error", v) for v in ["nan", "-0.1", "1.5"]],
    *[(["diagnose", "--train-error", "0.1"], "--dev-error", v) for v in ["nan", "2", "inf"]],
    *[
        (["diagnose", "--train-error", "0.1", "--dev-error", "0.2"], "--human-error", v)
        for v in ["-1", "nan", "1.01"]
    ],
    *[(["resume", "RUN"], "--epochs", v) for v in ["0", "-5", "x", "2.5"]],
    *[(["resume", "RUN"], "--lr", v) for v in ["-1", "0", "nan", "inf", "x"]],
    *[(["resume", "RUN"], "--from-epoch", v) for v in ["-1", "x"]],
]


@pytest.mark.parametrize(
    "before, option, value", BAD_VALUES, ids=[f"{o}={v!r}" for _, o, v in BAD_VALUES]
)
def test_bad_option_value_is_refused_naming_it(before, option, value, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli(*before, f"{option}={value}")
    assert r.code == 1, r
    assert f"error: {option} must be" in r.err, r
    assert list(tmp_path.iterdir()) == []  # nothing created: refused before any work


USAGE = [
    ["nosuchcommand"],
    ["train"],
    ["tune", "EXP", "--executor", "cloud"],
    ["study", "delete", "S.sqlite"],
    ["resume"],
    ["train", "EXP", "--no-such-option"],
]


@pytest.mark.parametrize("argv", USAGE, ids=[" ".join(a) for a in USAGE])
def test_malformed_command_line_is_a_usage_error(argv, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli(*argv)
    assert r.code == 2, r
    assert "usage:" in r.err and "error:" in r.err
    assert list(tmp_path.iterdir()) == []


def test_resume_with_a_bad_lr_leaves_config_json_unchanged(run_copy, cli):
    """`honed resume --epochs 50 --lr -1` was refused but config.json said 50 epochs."""
    before = (run_copy / "config.json").read_bytes()
    r = cli("resume", run_copy, "--epochs", "50", "--lr", "-1")
    assert r.code == 1 and "--lr must be > 0" in r.err
    assert (run_copy / "config.json").read_bytes() == before


def test_resume_api_checks_everything_before_writing(run_copy):
    from honed.experiment.runs import resume_run

    before = (run_copy / "config.json").read_bytes()
    with pytest.raises(ValueError, match="--lr must be > 0"):
        resume_run(run_copy, epochs=50, lr=-1, verbose=0)
    with pytest.raises(ValueError, match="--from-epoch 9 has no checkpoint"):
        resume_run(run_copy, epochs=50, from_epoch=9, verbose=0)
    assert (run_copy / "config.json").read_bytes() == before
