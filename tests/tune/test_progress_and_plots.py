import io
from pathlib import Path

from honed.tune import optimize
from honed.tune.progress import Progress
from honed.tune.synthetic import bowl, flaky


class TTY(io.StringIO):
    def isatty(self):
        return True


def _study(tmp_path, **kw):
    return optimize(
        bowl,
        {"lr": {"log": [1e-4, 1]}, "beta": {"one_minus_log": [0.9, 0.999]}},
        20,
        tmp_path / "s.journal",
        executor="inprocess",
        progress=False,
        **kw,
    )


def test_progress_is_quiet_in_logs_and_off_when_asked(tmp_path):
    trials = _study(tmp_path).trials
    log = io.StringIO()
    p = Progress(len(trials), "auto", stream=log)
    for t in trials:
        p.trial_finished(t, [])
    p.close()
    lines = log.getvalue().splitlines()
    assert 5 <= len(lines) <= 11 and "\r" not in log.getvalue() and "best" in lines[-1]
    off = io.StringIO()
    p = Progress(len(trials), False, stream=off)
    for t in trials:
        p.trial_finished(t, [])
    p.close()
    assert off.getvalue() == ""
    tty = TTY()
    p = Progress(len(trials), "auto", stream=tty)
    for t in trials:
        p.trial_finished(t, trials[:2])
    p.close()
    assert "best" in tty.getvalue() and "running #0,#1" in tty.getvalue()
    failing = optimize(
        flaky,
        {"x": {"uniform": [-1, 1]}},
        10,
        tmp_path / "f.journal",
        executor="inprocess",
        progress="lines",
    ).trials
    p = Progress(len(failing), "lines", stream=io.StringIO())
    for t in failing:
        p.trial_finished(t, [])
    assert p.counts == {"complete": 4, "failed": 2, "diverged": 4} and p.best.state == "complete"


def test_plot_study_writes_png(tmp_path):
    from honed.plots.tune import plot_study

    for name, study in (
        ("zoom", _study(tmp_path, sampler="zoom")),
        (
            "mixed",
            optimize(
                flaky,
                {"x": {"uniform": [-1, 1]}, "b": {"choice": [64, 128]}, "n": {"int": [2, 4]}},
                10,
                tmp_path / "f.journal",
                executor="inprocess",
                progress=False,
            ),
        ),
    ):
        out = plot_study(study, tmp_path / f"{name}.png")
        data = Path(out).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert len(study.zoom_boxes()) == 0
