"""Callbacks: hooks into the training loop.

Override only the ``on_*`` hooks you need. A callback stops training by setting
``trainer.stop_training = True``, never by raising. Callbacks that must survive an
interruption implement ``state_dict`` / ``load_state_dict``; the checkpoint stores them.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from honed import validation as check
from honed.train.stopping import PatienceRule, check_monitor


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer, batch: int, logs: dict[str, Any]) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, Any]) -> None: ...

    def on_train_end(self, trainer) -> None: ...

    def on_interrupt(self, trainer) -> None:
        """Training was interrupted (Ctrl-C, SIGTERM); the model may be mid-epoch."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    The best weights are always restored at the end of training — also when training ends by
    running out of epochs — so the model you get is the one with the lowest dev error (the
    notes: early stopping keeps the parameters from the point where the dev error was lowest).
    The rule itself (shared with populations) is :class:`honed.train.stopping.PatienceRule`.

    Args:
        monitor: a History column to minimise, ``dev_error`` or ``dev_cost``.
        patience: epochs without improvement before stopping (≥ 1).
        min_delta: the smallest decrease that counts as an improvement (≥ 0).
    """

    def __init__(self, monitor: str = "dev_error", patience: int = 5, min_delta: float = 0.0):
        self.monitor = check_monitor(monitor)
        self.rule = PatienceRule(1, patience, min_delta)
        self.patience, self.min_delta = self.rule.patience, self.rule.min_delta
        self.best_weights: dict[str, np.ndarray] | None = None
        self.stopped_epoch = 0

    @property
    def best(self) -> float:
        return float(self.rule.best[0])

    @property
    def best_epoch(self) -> int:
        return int(self.rule.best_epoch[0])

    @property
    def wait(self) -> int:
        return int(self.rule.wait[0])

    def on_epoch_end(self, trainer, epoch, logs):
        improved, stop = self.rule.update(epoch, [logs.get(self.monitor)])
        if improved[0]:
            self.best_weights = {k: v.copy() for k, v in trainer.model.state_dict().items()}
        elif stop[0]:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            trainer.history.events.append(
                {
                    "epoch": epoch,
                    "event": "early_stop",
                    "best_epoch": self.best_epoch,
                    "best": self.best,
                }
            )

    def on_train_end(self, trainer):
        if self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)
            trainer.restored_epoch = self.best_epoch

    def state_dict(self):
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state):
        self.rule.load_state_dict(
            {"best": [state["best"]], "best_epoch": [state["best_epoch"]], "wait": [state["wait"]]}
        )
        self.stopped_epoch = state.get("stopped_epoch", 0)
        self.best_weights = state.get("best_weights")


class Checkpoint(Callback):
    """Save the whole training state at the end of every ``every`` epochs into ``directory``.

    Files are ``epoch-NNNN.npz`` (see :mod:`honed.train.checkpoint`); each is written
    atomically, so the last complete one survives a crash or a kill. ``keep=N`` (N ≥ 1)
    keeps only the last N checkpoints and the one of the epoch with the lowest ``monitor``
    (the run's best, for a later rollback); older files are deleted after each save.
    ``keep=0`` keeps every checkpoint.

    On an interruption (Ctrl-C, SIGTERM) the state of the last *completed* epoch is saved too
    — the state at the start of training when no epoch was completed (``epoch-0000.npz`` for
    a new run) — so ``honed resume`` always has a checkpoint to continue from, and continues
    exactly as if the run had never stopped. That state is kept in memory from the end of the
    epoch (a copy) whenever it was not written to disk then.
    """

    def __init__(self, directory, every: int = 1, keep: int = 0, monitor: str = "dev_error"):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.directory = Path(directory)
        self.every = every
        self.keep = check.integer("keep", keep, minimum=0)
        self.monitor = monitor
        self._unsaved: tuple[int, dict] | None = None  # (epoch, state) not yet on disk

    def _remember(self, trainer) -> None:
        import copy

        self._unsaved = (trainer.epoch, copy.deepcopy(trainer.state_dict()))

    def on_train_begin(self, trainer):
        self._remember(trainer)

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch % self.every == 0 or trainer.stop_training:
            trainer.save_checkpoint(self.directory)
            if self.keep:
                self._prune(trainer)
            self._unsaved = None
        else:
            self._remember(trainer)

    def on_interrupt(self, trainer):
        from honed.train.checkpoint import checkpoint_path, save_state

        if self._unsaved is not None:
            epoch, state = self._unsaved
            save_state(checkpoint_path(self.directory, epoch), state)
            self._unsaved = None

    def _prune(self, trainer) -> None:
        from honed.train.checkpoint import list_checkpoints

        found = list_checkpoints(self.directory)
        epochs = sorted(found)
        kept = set(epochs[-self.keep :])
        scores = {
            r["epoch"]: r.get(self.monitor)
            for r in trainer.history.epochs
            if r["epoch"] in found and r.get(self.monitor) is not None
        }
        if scores:  # the first epoch of the lowest value, as early stopping picks it
            kept.add(min(scores, key=lambda e: (scores[e], e)))
        for epoch in epochs:
            if epoch not in kept:
                found[epoch].unlink(missing_ok=True)


class MetricsLogger(Callback):
    """Append each epoch's record to ``metrics.csv`` and ``metrics.jsonl`` in ``directory``."""

    COLUMNS = (
        "epoch",
        "train_cost",
        "train_error",
        "dev_cost",
        "dev_error",
        "lr",
        "seconds",
        "samples_per_s",
    )

    def __init__(self, directory):
        self.directory = Path(directory)

    def on_train_begin(self, trainer):
        self.directory.mkdir(parents=True, exist_ok=True)
        # Rewrite from the history so a resumed run's files match its (possibly truncated)
        # history exactly.
        # Written durably: a crash or full disk mid-rewrite keeps the old files whole.
        from honed.train.durable import atomic_open

        with atomic_open(self.directory / "metrics.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(self.COLUMNS)
            for record in trainer.history.epochs:
                writer.writerow([record.get(c, "") for c in self.COLUMNS])
        with atomic_open(self.directory / "metrics.jsonl", "w") as f:
            for record in trainer.history.epochs:
                f.write(json.dumps(record) + "\n")

    def on_epoch_end(self, trainer, epoch, logs):
        with open(self.directory / "metrics.csv", "a", newline="") as f:
            csv.writer(f).writerow([logs.get(c, "") for c in self.COLUMNS])
        with open(self.directory / "metrics.jsonl", "a") as f:
            f.write(json.dumps(logs) + "\n")


def _format_epoch(logs: dict[str, Any], epochs: int) -> str:
    if "dev_r2" in logs or logs.get("task") == "regression":
        return _format_regression_epoch(logs, epochs)
    parts = [f"epoch {logs['epoch']:>3}/{epochs}"]
    for key, label in (
        ("train_cost", "cost"),
        ("train_error", "train err"),
        ("dev_cost", "dev cost"),
        ("dev_error", "dev err"),
    ):
        if logs.get(key) is not None:  # errors in percent, costs as numbers (one unit each)
            value = logs[key]
            parts.append(
                f"{label} {value:.2%}" if key.endswith("error") else f"{label} {value:.4f}"
            )
    parts.append(f"lr {logs['lr']:.3g}")
    parts.append(f"{logs['samples_per_s']:,.0f} samples/s")
    return "  ".join(parts)


def _format_regression_epoch(logs: dict[str, Any], epochs: int) -> str:
    """Costs; the dev set's RMSE, MAE (targets' units) and R²."""
    parts = [f"epoch {logs['epoch']:>3}/{epochs}", f"cost {logs['train_cost']:.4f}"]
    if logs.get("dev_cost") is not None:
        parts.append(f"dev cost {logs['dev_cost']:.4f}")
    for key, label in (("dev_rmse", "dev RMSE"), ("dev_mae", "MAE"), ("dev_r2", "R²")):
        if logs.get(key) is not None:
            parts.append(f"{label} {logs[key]:.4g}")
    parts.append(f"lr {logs['lr']:.3g}")
    parts.append(f"{logs['samples_per_s']:,.0f} samples/s")
    return "  ".join(parts)


class ProgressBar(Callback):
    """A tqdm bar over each epoch's mini-batches (cost, lr, samples/s), when output is a terminal.

    When stdout is not a terminal (a log file, CI) the bar turns itself off and one plain
    line per epoch is printed instead. ``verbose=0`` prints nothing. ``every=N`` prints the
    line of every N-th epoch only (and of the last), for long runs of tiny epochs.
    """

    def __init__(self, verbose: int = 1, stream=None, every: int = 1):
        self.verbose = verbose
        self.every = check.integer("every", every, minimum=1)
        self.stream = stream or sys.stdout
        self.bar = None
        from honed.train.live import in_notebook

        # a terminal, or a notebook: both redraw a bar in place
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)()) or in_notebook()

    def on_epoch_begin(self, trainer, epoch):
        if not self.verbose or not self.interactive:
            return
        try:
            from honed.train.live import bar_class

            tqdm = bar_class()
        except ImportError:  # progress is optional: fall back to epoch lines
            self.interactive = False
            return
        self.bar = tqdm(
            total=trainer.batches_per_epoch,
            desc=f"epoch {epoch}/{trainer.target_epochs}",
            unit="batch",
            leave=False,
            file=self.stream,
            dynamic_ncols=True,
        )
        self.started = time.perf_counter()
        self.seen = 0

    def on_batch_end(self, trainer, batch, logs):
        if self.bar is None:
            return
        self.seen += logs["size"]
        self.bar.update(1)
        if batch % 20 == 0:
            rate = self.seen / max(time.perf_counter() - self.started, 1e-9)
            self.bar.set_postfix(
                cost=f"{logs['cost']:.4f}", lr=f"{logs['lr']:.2g}", samples_s=f"{rate:,.0f}"
            )

    def on_epoch_end(self, trainer, epoch, logs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.verbose and (epoch % self.every == 0 or epoch == trainer.target_epochs):
            print(_format_epoch(logs, trainer.target_epochs), file=self.stream, flush=True)

    def on_train_end(self, trainer):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
