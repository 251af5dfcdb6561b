"""Checkpoint files: nested state round trip, refusal of what cannot be stored, atomic writes."""

import numpy as np
import pytest

from honed.train import list_checkpoints, load_state, save_state
from honed.train.checkpoint import checkpoint_path


def test_nested_state_round_trips(tmp_path):
    state = {
        "epoch": 3,
        "optimizer": {"state": {0: {"t": 5, "m": np.arange(4.0)}, 1: None}, "lr": 1e-3},
        "rng": {"state": {"state": 2**100 + 7, "inc": 3}},
        "history": [{"epoch": 1, "dev_error": None}, ("a", 2.5)],
        "flag": True,
    }
    path = save_state(tmp_path / "c.npz", state)
    back = load_state(path)
    np.testing.assert_array_equal(back["optimizer"]["state"][0]["m"], np.arange(4.0))
    assert back["optimizer"]["state"][1] is None and list(back["optimizer"]["state"]) == [0, 1]
    assert back["rng"]["state"]["state"] == 2**100 + 7
    assert back["history"] == [{"epoch": 1, "dev_error": None}, ("a", 2.5)]
    assert back["epoch"] == 3 and back["flag"] is True
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary file left behind


def test_what_cannot_be_stored_is_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store object"):
        save_state(tmp_path / "c.npz", {"x": object()})
    with pytest.raises(TypeError, match="all strings or all ints"):
        save_state(tmp_path / "c.npz", {"x": {1: 2, "a": 3}})
    assert not (tmp_path / "c.npz").exists()


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_state(tmp_path / "nope.npz")
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not a honed checkpoint"):
        load_state(tmp_path / "plain.npz")


def test_list_checkpoints_by_epoch(tmp_path):
    for epoch in (3, 1, 12):
        save_state(checkpoint_path(tmp_path, epoch), {"epoch": epoch})
    (tmp_path / "epoch-0004.npz123.tmp").write_bytes(b"half written")
    assert list(list_checkpoints(tmp_path)) == [1, 3, 12]
    assert list_checkpoints(tmp_path / "missing") == {}
