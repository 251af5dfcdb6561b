"""examples/saddle.py runs, and Adam leaves the saddle and the plateau before plain GD."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "saddle.py"


def _load():
    spec = importlib.util.spec_from_file_location("saddle_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_adam_escapes_before_gd(tmp_path, capsys):
    saddle = _load()
    results = saddle.run(lr=0.1, max_steps=1500)
    for surface in ("saddle", "plateau"):
        adam, gd = results[surface, "Adam"][0], results[surface, "GD"][0]
        assert adam is not None and gd is not None and adam < gd
    saddle.print_table(results, 0.1, 1500)
    assert "plateau" in capsys.readouterr().out
    pytest.importorskip("matplotlib")
    assert saddle.plot(results, tmp_path).exists()
