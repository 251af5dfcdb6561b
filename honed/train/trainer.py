"""The training loop: epochs × shuffled mini-batches, evaluation, callbacks, history.

One step on mini-batch t (the notes, rows are examples):

    J^{t} = (1/m_t) Σ_i L(ŷ_i, y_i) + penalty(W; m_t)     (L1/L2 on weight matrices only)
    backward: dW = ∂J^{t}/∂W;  optimizer.step()             (GD, Momentum, RMSprop, Adam)

The learning rate of epoch e (0-based) comes from the optimizer's schedule, set at the start
of each epoch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from honed.autograd import Tensor, no_grad, sigmoid_cross_entropy, softmax_cross_entropy
from honed.data.batches import minibatches, n_batches
from honed.nn.regularizers import WeightPenalty
from honed.train.callbacks import Callback
from honed.train.checkpoint import checkpoint_path, save_state
from honed.train.memory import keep_freed_memory
from honed.train.metrics import History, error_rate

LOSSES = ("softmax_cross_entropy", "binary_cross_entropy", "mse")


class TrainingDiverged(RuntimeError):
    """The cost became NaN or infinite; the message names the epoch and mini-batch."""

    def __init__(self, message: str, epoch: int, batch: int):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


def _mse(outputs: Tensor, targets: np.ndarray) -> Tensor:
    """J = 1/(2m) Σ ‖ŷ − y‖² (the notes' form)."""
    diff = outputs - targets.reshape(outputs.shape).astype(outputs.dtype)
    return (diff * diff).sum() / (2 * outputs.shape[0])


def _loss_function(loss: str) -> Callable[[Tensor, np.ndarray], Tensor]:
    if loss == "softmax_cross_entropy":
        return softmax_cross_entropy
    if loss == "binary_cross_entropy":
        return sigmoid_cross_entropy
    if loss == "mse":
        return _mse
    raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")


def _arrays(data) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) from a honed Dataset or a pair."""
    if data is None:
        return None, None
    if hasattr(data, "X") and hasattr(data, "y"):
        return data.X, data.y
    X, y = data
    return np.asarray(X), np.asarray(y)


def _generators(model) -> list[tuple[str, np.random.Generator]]:
    """Random generators owned by the model's layers (dropout masks), by module name."""
    found = []
    modules = model.named_modules() if hasattr(model, "named_modules") else [("", model)]
    for name, module in modules:
        rng = getattr(module, "rng", None)
        if isinstance(rng, np.random.Generator):
            found.append((name, rng))
    return found


class Trainer:
    """Fit a model with mini-batch gradient descent and report per-epoch history.

    Args:
        model: a ``honed.nn.Module`` producing logits (or predictions for ``mse``).
        optimizer: a ``honed.optim`` optimizer over the model's parameters.
        loss: ``softmax_cross_entropy`` (integer labels), ``binary_cross_entropy`` (0/1 labels,
            one logit) or ``mse``.
        batch_size: mini-batch size: 1 is stochastic GD, m is batch GD (≥ 1).
        l1, l2: regularization strengths λ (≥ 0) on weight matrices.
        augment: a callable ``(X, rng) -> X`` applied to each training mini-batch.
        callbacks: :class:`Callback` objects.
        seed: seeds the generator for shuffling and augmentation.
        extra_state: anything else to store in checkpoints (e.g. the input normalizer).
        eval_batch_size: batch size for evaluation passes.
    """

    def __init__(
        self,
        model,
        optimizer,
        loss: str = "softmax_cross_entropy",
        batch_size: int = 128,
        l1: float = 0.0,
        l2: float = 0.0,
        augment: Callable | None = None,
        callbacks: Iterable[Callback] = (),
        seed: int = 0,
        extra_state: dict[str, Any] | None = None,
        eval_batch_size: int = 4096,
    ):
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size}")
        for name, lam in (("l1", l1), ("l2", l2)):
            if not (lam >= 0 and math.isfinite(lam)):
                raise ValueError(f"{name} must be >= 0, got {lam}")
        keep_freed_memory()  # no page faults for the arrays every step frees and takes again
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.loss_fn = _loss_function(loss)
        self.batch_size = int(batch_size)
        self.l1, self.l2 = float(l1), float(l2)
        self.augment = augment
        self.callbacks: list[Callback] = list(callbacks)
        self.rng = np.random.default_rng(seed)
        self.extra_state = dict(extra_state or {})
        self.eval_batch_size = eval_batch_size
        self.history = History()
        self.epoch = 0  # epochs completed
        self.stop_training = False
        self.restored_epoch: int | None = None
        self.target_epochs = 0
        self.batches_per_epoch = 0

    # -- training -----------------------------------------------------------------------
    def fit(self, train, dev=None, epochs: int = 10) -> History:
        """Train until ``epochs`` epochs are done in total (a resumed run continues its count).

        Raises:
            TrainingDiverged: the cost became NaN/inf; the history's status is "diverged".
        """
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {epochs}")
        X, y = _arrays(train)
        X_dev, y_dev = _arrays(dev)
        if len(X) == 0:
            raise ValueError("the training set is empty")
        self.target_epochs = int(epochs)
        self.batches_per_epoch = n_batches(len(X), self.batch_size)
        self.stop_training = False
        self.history.status = "running"
        for cb in self.callbacks:
            cb.on_train_begin(self)
        try:
            # Overflow on the way to a NaN cost is reported once, as TrainingDiverged, not as
            # a stream of NumPy warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                while self.epoch < self.target_epochs and not self.stop_training:
                    self._run_epoch(X, y, X_dev, y_dev)
        except TrainingDiverged as err:
            self.history.status, self.history.message = "diverged", str(err)
            raise
        except KeyboardInterrupt:
            self.history.status = "interrupted"
            self.history.message = f"interrupted during epoch {self.epoch + 1}"
            raise
        else:
            self.history.status = "early_stopped" if self.stop_training else "completed"
        finally:
            if self.history.status not in ("diverged", "interrupted"):
                for cb in self.callbacks:
                    cb.on_train_end(self)
        return self.history

    def _run_epoch(self, X, y, X_dev, y_dev) -> None:
        epoch = self.epoch + 1
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn
        optimizer.set_epoch(self.epoch)  # schedules count epochs from 0
        lr = optimizer.lr
        for cb in self.callbacks:
            cb.on_epoch_begin(self, epoch)
        model.train()
        # The penalty's value joins the reported cost and its gradient is added to W.grad in
        # place after backward: the graph path's numbers without its nodes and new arrays.
        penalty = (
            WeightPenalty(model, l1=self.l1, l2=self.l2) if self.l1 > 0 or self.l2 > 0 else None
        )
        wants_batch_logs = any(
            type(cb).on_batch_end is not Callback.on_batch_end for cb in self.callbacks
        )
        total_cost = total_wrong = 0.0
        started = time.perf_counter()
        for batch, (xb, yb) in enumerate(minibatches(X, y, self.batch_size, self.rng)):
            if self.augment is not None:
                xb = self.augment(xb, self.rng)
            m = len(xb)
            outputs = model(Tensor(xb))
            cost = loss_fn(outputs, yb)
            value = float(cost.data)
            if penalty is not None:
                value += penalty.value(m)
            if not math.isfinite(value):
                raise TrainingDiverged(
                    f"training diverged: the cost became {value} at epoch {epoch}, "
                    f"mini-batch {batch + 1}/{self.batches_per_epoch} (lr {lr:.3g}). "
                    "Try a smaller learning rate; the last good checkpoint is kept.",
                    epoch,
                    batch + 1,
                )
            optimizer.zero_grad()
            cost.backward()
            if penalty is not None:
                penalty.add_gradient(m)
            optimizer.step()
            total_cost += value * m
            total_wrong += error_rate(outputs.data, yb, self.loss) * m
            if wants_batch_logs:
                logs = {"cost": value, "lr": lr, "size": m}
                for cb in self.callbacks:
                    cb.on_batch_end(self, batch, logs)
        seconds = time.perf_counter() - started
        record = {
            "epoch": epoch,
            "train_cost": total_cost / len(X),
            "train_error": total_wrong / len(X),
            "dev_cost": None,
            "dev_error": None,
            "lr": lr,
            "seconds": seconds,
            "samples_per_s": len(X) / max(seconds, 1e-12),
        }
        if X_dev is not None:
            record["dev_cost"], record["dev_error"] = self._evaluate_arrays(X_dev, y_dev)
        self.epoch = epoch
        self.history.append(record)
        for cb in self.callbacks:
            cb.on_epoch_end(self, epoch, record)

    # -- evaluation ---------------------------------------------------------------------
    def predict(self, X: np.ndarray) -> np.ndarray:
        """The model's outputs (logits) for ``X``, in eval mode, in batches."""
        was_training = getattr(self.model, "training", False)
        self.model.eval()
        try:
            with no_grad():
                parts = [
                    self.model(Tensor(X[i : i + self.eval_batch_size])).data
                    for i in range(0, len(X), self.eval_batch_size)
                ]
        finally:
            if was_training:
                self.model.train()
        return np.concatenate(parts) if parts else np.empty((0,))

    def _evaluate_arrays(self, X, y) -> tuple[float, float]:
        outputs = self.predict(X)
        with no_grad():
            cost = float(self.loss_fn(Tensor(outputs), y).data)
        return cost, error_rate(outputs, y, self.loss)

    def evaluate(self, data) -> dict[str, float]:
        """Mean cost (without penalty) and error of the model on ``data``, in eval mode."""
        X, y = _arrays(data)
        cost, error = self._evaluate_arrays(X, y)
        return {"cost": cost, "error": error}

    # -- state --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: model, optimizer, generators, history."""
        return {
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": self.rng.bit_generator.state,
            "layer_rngs": {name: g.bit_generator.state for name, g in _generators(self.model)},
            "history": self.history.to_dict(),
            "callbacks": [cb.state_dict() for cb in self.callbacks],
            "extra": self.extra_state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.rng.bit_generator.state = state["rng"]
        generators = dict(_generators(self.model))
        for name, s in state.get("layer_rngs", {}).items():
            if name in generators:
                generators[name].bit_generator.state = s
        self.history = History.from_dict(state["history"])
        self.history.truncate(state["epoch"])
        for cb, s in zip(self.callbacks, state.get("callbacks", [])):
            cb.load_state_dict(s)
        self.extra_state = dict(state.get("extra", {}))
        self.epoch = int(state["epoch"])

    def save_checkpoint(self, directory) -> Path:
        return save_state(checkpoint_path(directory, self.epoch), self.state_dict())
