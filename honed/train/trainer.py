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
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from honed import validation as check
from honed.autograd import Tensor, no_grad
from honed.data.batches import minibatches, n_batches
from honed.nn.losses import Loss, get_loss, regression_metrics
from honed.nn.regularizers import WeightPenalty
from honed.train.callbacks import Callback
from honed.train.capture import StepCapture
from honed.train.checkpoint import checkpoint_path, save_state
from honed.train.durable import deferred_signals
from honed.train.memory import keep_freed_memory
from honed.train.metrics import History
from honed.train.status import Status
from honed.train.step import EagerForward, TrainStep


class TrainingDiverged(RuntimeError):
    """The cost became NaN or infinite; the message names the epoch and mini-batch."""

    def __init__(self, message: str, epoch: int, batch: int):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


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
        model: a ``honed.nn.Module`` producing the loss's inputs (logits for the
            cross-entropies on logits).
        optimizer: a ``honed.optim`` optimizer over the model's parameters.
        loss: a :class:`~honed.nn.losses.Loss` or a registered name:
            ``softmax_cross_entropy`` (integer labels, logits), ``sigmoid_cross_entropy``
            (0/1 labels, one logit), ``binary_cross_entropy`` (0/1 labels, probabilities),
            or for regression (real targets, identity outputs) ``mse``, ``mae``, ``huber``.
        batch_size: mini-batch size: 1 is stochastic GD, ``"full"`` (or m) is batch GD.
        l1, l2: regularization strengths λ (≥ 0) on weight matrices.
        augment: a callable ``(X, rng) -> X`` applied to each training mini-batch.
        callbacks: :class:`Callback` objects.
        seed: seeds the generator for shuffling and augmentation.
        extra_state: anything else to store in checkpoints (e.g. the input normalizer).
        eval_batch_size: batch size for evaluation passes.
        drop_last: leave out each epoch's last, partial mini-batch.
        target_scale: regression with standardized targets: σ per target column, so that
            RMSE, MAE and R² (``dev_rmse``, ``dev_mae``, ``dev_r2`` in each epoch record,
            and :meth:`evaluate`) are in the targets' own units. The error of a regression
            loss stays the RMSE of the standardized targets (1: the constant predictor).
        capture: record the training step once per batch shape and replay it without
            building the graph (:mod:`honed.train.capture`); bit for bit the eager step.
            ``False`` runs every step eagerly (debugging). Why a step ran eagerly anyway:
            ``trainer.capture.reasons``.
    """

    def __init__(
        self,
        model,
        optimizer,
        loss: str | Loss = "softmax_cross_entropy",
        batch_size: int | str = 128,
        l1: float = 0.0,
        l2: float = 0.0,
        augment: Callable | None = None,
        callbacks: Iterable[Callback] = (),
        seed: int = 0,
        extra_state: dict[str, Any] | None = None,
        eval_batch_size: int = 4096,
        drop_last: bool = False,
        target_scale=None,
        capture: bool = True,
    ):
        if batch_size != "full":
            batch_size = check.integer("batch_size", batch_size, minimum=1)
        keep_freed_memory()  # no page faults for the arrays every step frees and takes again
        self.model = model
        self.optimizer = optimizer
        self.loss = get_loss(loss)
        self.batch_size = batch_size
        self.drop_last = check.boolean("drop_last", drop_last)
        self.l1, self.l2 = check.non_negative("l1", l1), check.non_negative("l2", l2)
        # The one penalty code path, for training and for gradient checking: its value joins
        # the reported cost and its gradient is added to W.grad after backward (the graph
        # path's numbers without its nodes and new arrays).
        self.penalty = WeightPenalty(model, l1=self.l1, l2=self.l2) if self.l1 or self.l2 else None
        self.augment = augment
        self.callbacks: list[Callback] = list(callbacks)
        self.rng = np.random.default_rng(seed)
        self.extra_state = dict(extra_state or {})
        self.eval_batch_size = eval_batch_size
        self.target_scale = None if target_scale is None else np.asarray(target_scale)
        # forward (captured), loss, penalty, backward, update: shared with PopulationTrainer
        self.step = TrainStep(
            model, self.loss, optimizer, self.penalty, check.boolean("capture", capture)
        )
        self.history = History()
        self.epoch = 0  # epochs completed
        self.stop_training = False
        self.restored_epoch: int | None = None
        self.target_epochs = 0
        self.batches_per_epoch = 0
        self._batch = 0  # index of the mini-batch in progress, for the divergence message
        self._warned_no_dev = False

    def _batch_size(self, m: int) -> int:
        return max(m, 1) if self.batch_size == "full" else self.batch_size

    # -- one step -------------------------------------------------------------------------
    def objective(self, X_batch: np.ndarray, y_batch: np.ndarray) -> Tensor:
        """``J = (1/m) Σ L(ŷ, y) + penalty`` of a batch as a scalar Tensor whose graph covers
        the loss; the penalty enters as a constant and :meth:`backward` adds its gradient.
        Gradient checking uses this pair, so it checks exactly what training computes."""
        J = self.loss(self.model(Tensor(X_batch)), y_batch)
        if self.penalty is None:
            return J
        return J + self.penalty.value(len(X_batch))

    def backward(self, J: Tensor, m: int) -> None:
        """Gradients of ``J + penalty`` into every parameter's ``.grad`` (cleared first)."""
        self.step.backward(EagerForward.of(None, J), m)

    def train_step(self, X_batch: np.ndarray, y_batch: np.ndarray) -> tuple[float, float]:
        """One step of gradient descent on a mini-batch: the one place a step happens.

        forward, ``J^{t} = (1/m_t) Σ L(ŷ, y) + penalty(W; m_t)``, backward (the penalty's
        gradient added to each W.grad), ``optimizer.step()``. The model should be in
        training mode (``fit`` sees to it).

        Returns:
            ``(cost, error)`` of the batch: the cost with the penalty, and the loss's error
            metric of the outputs the step computed (training mode, before the update).

        Raises:
            TrainingDiverged: the cost is NaN or infinite (nothing was updated).
        """
        m = len(X_batch)
        step = self.step.forward(X_batch, y_batch)
        value = float(self.step.costs(step, m))
        if not math.isfinite(value):
            epoch, batch = self.epoch + 1, self._batch + 1
            raise TrainingDiverged(
                f"training diverged: the cost became {value} at epoch {epoch}, "
                f"mini-batch {batch}/{self.batches_per_epoch} (lr {self.optimizer.lr:.3g}). "
                "Try a smaller learning rate; the last good checkpoint is kept.",
                epoch,
                batch,
            )
        self.step.update(step, m)
        return value, self.loss.error(step.outputs, y_batch)

    @property
    def capture(self) -> StepCapture | None:
        """The step's capture (:mod:`honed.train.capture`), or None when it is off."""
        return self.step.capture

    # -- training -----------------------------------------------------------------------
    def fit(self, train, dev=None, epochs: int = 10, verbose: int | None = None) -> History:
        """Train until ``epochs`` epochs are done in total (a resumed run continues its count).

        Progress is shown as Keras shows it: ``verbose=1`` a bar over each epoch's mini-batches
        in a terminal, else one line per epoch (:class:`ProgressBar`); ``2`` also live
        train/dev curves in a notebook (:class:`LivePlot`); ``0`` nothing. The default (None)
        is 1, unless a ``ProgressBar`` is among the callbacks already.

        Raises:
            TrainingDiverged: the cost became NaN/inf; the history's status is "diverged".
        """
        epochs = check.integer("epochs", epochs, minimum=1)
        X, y = _arrays(train)
        X_dev, y_dev = _arrays(dev)
        if len(X) == 0:
            raise ValueError("the training set is empty")
        if X_dev is None and not self._warned_no_dev:
            for cb in self.callbacks:
                monitor = getattr(cb, "monitor", "")
                if monitor.startswith("dev_"):
                    warnings.warn(
                        f"{type(cb).__name__} monitors {monitor} but fit() got no dev set: "
                        "it will never act",
                        stacklevel=2,
                    )
            self._warned_no_dev = True
        self.target_epochs = epochs
        batch_size = self._batch_size(len(X))
        self.batches_per_epoch = n_batches(len(X), batch_size, self.drop_last)
        if self.batches_per_epoch == 0:
            raise ValueError(
                f"drop_last with batch_size {batch_size} leaves no mini-batch of the "
                f"{len(X)} training examples"
            )
        self.stop_training = False
        self.history.status = Status.RUNNING
        shown = self._progress(verbose)
        try:
            return self._fit(X, y, X_dev, y_dev, batch_size)
        finally:
            for cb in shown:
                self.callbacks.remove(cb)

    def _progress(self, verbose: int | None) -> list:
        """The ProgressBar (and LivePlot) of this fit only, added to the callbacks."""
        from honed.train.callbacks import ProgressBar
        from honed.train.live import LivePlot

        if verbose is None:
            verbose = 0 if any(isinstance(cb, ProgressBar) for cb in self.callbacks) else 1
        verbose = check.integer("verbose", verbose, minimum=0)
        if not verbose:
            return []
        added = [ProgressBar(verbose=1)]
        if verbose >= 2 and not any(isinstance(cb, LivePlot) for cb in self.callbacks):
            added.append(LivePlot())
        self.callbacks.extend(added)
        return added

    def _fit(self, X, y, X_dev, y_dev, batch_size) -> History:
        for cb in self.callbacks:
            cb.on_train_begin(self)
        try:
            # Overflow on the way to a NaN cost is reported once, as TrainingDiverged, not as
            # a stream of NumPy warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                while self.epoch < self.target_epochs and not self.stop_training:
                    self._run_epoch(X, y, X_dev, y_dev, batch_size)
        except TrainingDiverged as err:
            self.history.status, self.history.message = Status.DIVERGED, str(err)
            raise
        except KeyboardInterrupt:
            self.history.status = Status.INTERRUPTED
            self.history.message = f"interrupted during epoch {self.epoch + 1}"
            # Callbacks save what they must (the last completed epoch's checkpoint); a second
            # Ctrl-C meanwhile is held back until they are done, then ends the run the same way.
            with deferred_signals():
                for cb in self.callbacks:
                    cb.on_interrupt(self)
            raise
        else:
            self.history.status = Status.EARLY_STOPPED if self.stop_training else Status.COMPLETE
        finally:
            if self.history.status not in (Status.DIVERGED, Status.INTERRUPTED):
                for cb in self.callbacks:
                    cb.on_train_end(self)
        return self.history

    def _run_epoch(self, X, y, X_dev, y_dev, batch_size: int) -> None:
        epoch = self.epoch + 1
        self.optimizer.set_epoch(self.epoch)  # schedules count epochs from 0
        lr = self.optimizer.lr
        for cb in self.callbacks:
            cb.on_epoch_begin(self, epoch)
        self.model.train()
        wants_batch_logs = any(
            type(cb).on_batch_end is not Callback.on_batch_end for cb in self.callbacks
        )
        total_cost = total_wrong = 0.0
        seen = 0
        started = time.perf_counter()
        batches = minibatches(X, y, batch_size, self.rng, drop_last=self.drop_last)
        for self._batch, (xb, yb) in enumerate(batches):
            if self.augment is not None:
                xb = self.augment(xb, self.rng)
            m = len(xb)
            cost, error = self.train_step(xb, yb)
            total_cost += cost * m
            total_wrong += error * m
            seen += m
            if wants_batch_logs:
                logs = {"cost": cost, "lr": lr, "size": m}
                for cb in self.callbacks:
                    cb.on_batch_end(self, self._batch, logs)
        seconds = time.perf_counter() - started
        record = {
            "epoch": epoch,
            "train_cost": total_cost / seen,
            "train_error": total_wrong / seen,
            "dev_cost": None,
            "dev_error": None,
            "lr": lr,
            "seconds": seconds,
            "samples_per_s": seen / max(seconds, 1e-12),
        }
        if X_dev is not None:
            dev = self._evaluate_arrays(X_dev, y_dev)
            record["dev_cost"], record["dev_error"] = dev.pop("cost"), dev.pop("error")
            record.update({f"dev_{k}": v for k, v in dev.items()})
        self.epoch = epoch
        self.history.append(record)
        for cb in self.callbacks:
            cb.on_epoch_end(self, epoch, record)

    # -- evaluation ---------------------------------------------------------------------
    def predict_logits(self, X: np.ndarray) -> np.ndarray:
        """The model's raw outputs for ``X`` (logits for the cross-entropies on logits), in
        eval mode, in batches."""
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

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels for ``X`` (class indices; values for a regression loss), as ``model.predict``
        and ``run.predict`` give them: the loss's reading of :meth:`predict_logits`."""
        predict = getattr(self.loss, "predict", None)
        outputs = self.predict_logits(X)
        return outputs if predict is None else predict(outputs)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities: ``softmax(z)`` for ``softmax_cross_entropy``, ``σ(z)`` (the
        probability of class 1) for ``sigmoid_cross_entropy``, the outputs themselves for a
        loss on probabilities."""
        z = self.predict_logits(X)
        name = getattr(self.loss, "name", "")
        if name == "softmax_cross_entropy":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        if name == "sigmoid_cross_entropy":
            return 1.0 / (1.0 + np.exp(-z))
        if name == "binary_cross_entropy":
            return z
        raise ValueError(f"predict_proba needs a classification loss, the trainer's is {name!r}")

    def _evaluate_arrays(self, X, y) -> dict[str, float]:
        outputs = self.predict_logits(X)
        with no_grad():
            cost = float(self.loss(Tensor(outputs), y).data)
        out = {"cost": cost, "error": self.loss.error(outputs, y)}
        if getattr(self.loss, "task", "") == "regression":
            out.update(regression_metrics(outputs, y, self.target_scale))
        return out

    def evaluate(self, data) -> dict[str, float]:
        """Mean cost (without penalty) and error of the model on ``data``, in eval mode; for
        a regression loss also ``rmse``, ``mae`` and ``r2`` (in the targets' units)."""
        X, y = _arrays(data)
        return self._evaluate_arrays(X, y)

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
        if self.capture is not None:
            self.capture.reset()
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
