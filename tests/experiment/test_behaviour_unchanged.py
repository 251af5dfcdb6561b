"""The reshaped experiment layer trains exactly as before: per-epoch metrics of three small
experiments (moons, a Fashion-MNIST subset with BN/dropout/Adam/decay, one with L2 and
momentum) were recorded with the code before the reshape (``golden_metrics.json``)."""

import json
from pathlib import Path

import pytest

from honed import experiment as ex
from honed.experiment.runs import train_experiment

ROOT = Path(__file__).parents[2]
GOLDEN = json.loads((Path(__file__).parent / "golden_metrics.json").read_text())


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_per_epoch_metrics_match_the_recorded_ones(name):
    case = GOLDEN[name]
    config = ex.load_config(ROOT / case["file"], case["overrides"])
    result = train_experiment(config, out=None, verbose=0)
    got = result.trainer.history.epochs
    assert len(got) == len(case["metrics"])
    for record, want in zip(got, case["metrics"], strict=True):
        for key, value in want.items():
            # float32 training: the same operations in the same order give the same bits;
            # 1e-6 leaves room only for a different summation order in BLAS.
            assert record[key] == pytest.approx(value, rel=1e-6, abs=1e-9), (name, key, record)
    assert result.errors["test"]["error"] == pytest.approx(case["test"]["error"], abs=1e-9)
