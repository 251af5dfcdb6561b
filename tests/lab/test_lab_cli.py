import json

from honed.cli import main


def test_lab_lists_the_experiments(capsys):
    assert main(["lab"]) == 0
    out = capsys.readouterr().out
    for name in ("init", "regularization", "optimizers", "gradcheck", "batchnorm", "softmax"):
        assert f"  {name}" in out


def test_lab_runs_one_experiment(tmp_path, capsys):
    assert main(["lab", "xor", "--quick", "--seeds", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "verdict: PASS" in out and "± " in out
    saved = json.loads((tmp_path / "xor" / "results.json").read_text())
    assert saved["seeds"] == [0, 1] and (tmp_path / "xor" / "boundaries.png").exists()


def test_lab_exits_7_when_a_verdict_is_inconclusive(tmp_path, capsys):
    # one seed cannot tell an effect from the seed spread: saddle's comparisons stay open
    assert main(["lab", "saddle", "--quick", "--seeds", "1", "--out", str(tmp_path)]) == 7
    out = capsys.readouterr().out
    assert "saddle (quick)" in out and "verdict: INCONCLUSIVE: UNDECIDED saddle:" in out
    assert "more seeds decide (--seeds 2)" in out
    saved = json.loads((tmp_path / "saddle" / "results.json").read_text())
    assert saved["verdict"]["outcome"] == "INCONCLUSIVE" and saved["quick"] is True


def test_lab_unknown_name_and_name_with_all(capsys):
    assert main(["lab", "nope"]) == 1
    assert "experiment must be one of" in capsys.readouterr().err
    assert main(["lab", "xor", "--all"]) == 1
    assert "not both" in capsys.readouterr().err


TINY = """
name = "tiny"
seed = 3
[data]
dataset = "moons"
n_samples = 200
noise = 0.2
[model]
hidden = [8]
activation = "tanh"
[train]
lr = 0.02
batch_size = 32
epochs = 3
"""


def test_compare_shows_only_differing_settings_and_overlays_curves(tmp_path, capsys):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    for lr in ("0.02", "0.05"):
        assert (
            main(
                [
                    "train",
                    str(exp),
                    "--out",
                    str(tmp_path / "runs"),
                    "--quiet",
                    "--set",
                    f"train.lr={lr}",
                ]
            )
            == 0
        )
    runs = sorted(str(p) for p in (tmp_path / "runs").iterdir())
    capsys.readouterr()
    png = tmp_path / "cmp.png"
    assert main(["compare", *runs, "--out", str(png)]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert "train.lr" in header and "train.epochs" not in header and "dev" in out
    assert "0.05" in out and png.read_bytes().startswith(b"\x89PNG")


def test_compare_needs_run_directories(tmp_path, capsys):
    assert main(["compare", str(tmp_path), str(tmp_path)]) == 1
    assert "has no summary.json" in capsys.readouterr().err


def test_shipped_toml_files_hold_each_experiments_defaults():
    from pathlib import Path

    from honed import lab

    root = Path(__file__).resolve().parents[2] / "examples" / "lab"
    for name in lab.names():
        assert lab.load_settings(root / f"{name}.toml") == lab.get(name).DEFAULTS, name


def test_lab_config_changes_a_setting_and_unknown_settings_are_named(tmp_path, capsys):
    config = tmp_path / "xor.toml"
    config.write_text("epochs = 1000\ngrid = 5\n")
    assert (
        main(["lab", "xor", "--seeds", "2", "--config", str(config), "--out", str(tmp_path)]) == 0
    )
    saved = json.loads((tmp_path / "xor" / "results.json").read_text())
    assert saved["settings"]["grid"] == 5 and saved["settings"]["epochs"] == 1000
    config.write_text("epoch = 10\n")
    assert main(["lab", "xor", "--config", str(config), "--out", str(tmp_path)]) == 1
    assert "xor has no setting 'epoch'" in capsys.readouterr().err
