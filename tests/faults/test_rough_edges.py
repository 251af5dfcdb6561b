"""Rough edges a new user meets: help text, rounding, and messages that contradict themselves."""

import json

import pytest

from honed.cli import build_parser, command_summary
from honed.diagnose import diagnose
from honed.lab.cli import compare_rows


def _subcommands():
    return next(a for a in build_parser()._actions if a.dest == "command")


def test_help_lists_every_command_with_a_whole_sentence(cli):
    r = cli("--help")
    assert r.code == 0
    for name, action in zip(_subcommands().choices, _subcommands()._choices_actions):
        summary = action.help
        assert summary.endswith(".") and not summary.endswith(",."), (name, summary)
        assert summary.count("(") == summary.count(")"), (name, summary)
        assert summary.count("`") % 2 == 0 and summary.count('"') % 2 == 0, (name, summary)
        assert "".join(summary.split()) in "".join(r.out.split()), (name, summary)


def test_command_summary_takes_a_sentence_or_its_head():
    assert command_summary("Do a thing. More words.\n\nDetails.") == "Do a thing."
    long = "Look at a study: " + "many words " * 10 + "end.\n\nmore"
    assert command_summary(long) == "Look at a study."
    doc = "Print a run's summary and per-epoch\n    metrics (nothing is changed).\n"
    assert (
        command_summary(doc) == "Print a run's summary and per-epoch metrics (nothing is changed)."
    )


@pytest.mark.parametrize("command", ["train", "config", "tune", "gradcheck"])
def test_every_set_option_has_help(command):
    sub = _subcommands().choices[command]
    (option,) = [a for a in sub._actions if "--set" in a.option_strings]
    assert option.help and "train.lr=3e-4" in option.help, command


def _run(name, config, error):
    from pathlib import Path

    return {
        "path": Path(name),
        "config": config,
        "summary": {"status": "complete", "epoch": 3, "errors": {"dev": {"error": error}}},
    }


def test_compare_rounds_settings_but_keeps_different_values_apart():
    runs = [
        _run("a", {"train.lr": 0.0020971337060578976, "model.hidden": [64, 32]}, 0.1),
        _run("b", {"train.lr": 0.0031, "model.hidden": [64, 32]}, 0.2),
        _run("c", {"train.lr": 0.00209713, "model.hidden": [64, 16]}, 0.3),
    ]
    header, rows = compare_rows(runs)
    column = header.index("train.lr")
    cells = [row[column] for row in rows]
    # 4 digits would make a and c the same; the fewest digits that tell them apart are used
    assert cells == ["0.002097134", "0.0031", "0.00209713"], cells
    runs[2]["config"]["train.lr"] = 0.05
    header, rows = compare_rows(runs)
    assert [row[column] for row in rows] == ["0.002097", "0.0031", "0.05"]
    assert [row[header.index("model.hidden")] for row in rows] == [
        json.dumps([64, 32]),
        json.dumps([64, 32]),
        json.dumps([64, 16]),
    ]


def test_below_human_level_the_avoidable_bias_is_said_once_as_zero():
    text = str(diagnose(0.0279, 0.10, human_error=0.165))
    assert "avoidable bias -" not in text and "-13.71" not in text, text
    (line,) = [x for x in text.splitlines() if "avoidable bias" in x and "larger gap" not in x]
    assert line.startswith("avoidable bias 0 (training error is 13.71 points below"), line
    assert "variance +7.21% (dev − train)" in line
    assert "larger gap: variance (7.21% vs 0.00%)" in text


def test_subset_help_says_when_the_subset_is_taken(cli):
    r = cli("config", "--keys")
    (line,) = [x for x in r.out.splitlines() if "`data.subset`" in x]
    assert "before the dev/test split" in line and "train on a random subset" not in line
