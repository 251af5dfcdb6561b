"""One training step, for a single model (P = 1) or a population's member-axis model (P ≥ 1).

On mini-batch t of m_t examples (the notes, rows are examples)::

    J_k = (1/m_t) Σ_i L(ŷ_ik, y_i) + λ₁_k/m_t Σ|W_k| + λ₂_k/(2 m_t) Σ‖W_k‖²_F
    backward of Σ_k J_k  (so member k's gradient is ∂J_k/∂θ_k: members share no parameter)
    dW_k += (λ₁_k/m_t)·sign(W_k) + (λ₂_k/m_t)·W_k;   optimizer.step()

A standalone model gives a scalar J (P = 1); a member-axis model (``honed.nn.members``) gives
J of shape (P,). The forward is replayed when the step was captured
(:mod:`honed.train.capture`), else run eagerly (and recorded while the capture learns it).

The step is split in three so a caller can act between them: :meth:`TrainStep.forward`
(outputs and J), :meth:`TrainStep.costs` (J plus the penalty: the Trainer stops on a NaN, a
population takes the diverged members out), :meth:`TrainStep.backward` and
:meth:`TrainStep.apply` (the optimizer's update); :meth:`TrainStep.update` is the last two.
"""

from __future__ import annotations

import numpy as np

from honed.autograd import Tensor, is_grad_enabled
from honed.autograd.capture import Tape
from honed.train.capture import StepCapture


class EagerForward:
    """An eager forward with the interface of a replayed one (``outputs``, ``cost``,
    ``backward``)."""

    __slots__ = ("outputs_tensor", "J")

    def __init__(self, model, loss, X_batch, y_batch):
        self.outputs_tensor = model(Tensor(X_batch))
        self.J = loss(self.outputs_tensor, y_batch)

    @classmethod
    def of(cls, outputs, J) -> EagerForward:
        step = object.__new__(cls)
        step.outputs_tensor, step.J = outputs, J
        return step

    @property
    def outputs(self):
        return self.outputs_tensor.data

    @property
    def cost(self):
        return self.J.data

    def backward(self) -> None:
        """Gradients of ``Σ_k J_k`` (of J itself for a scalar) into the parameters."""
        J = self.J
        J.backward(None if J.data.size == 1 else np.ones_like(J.data))


class TrainStep:
    """Forward (captured when possible), loss, penalty, backward of the sum, optimizer step.

    Args:
        model: a ``honed.nn.Module`` (standalone, or with a member axis).
        loss: a callable ``loss(outputs, y) -> J`` (scalar, or (P,) per member).
        optimizer: anything with ``zero_grad()`` and ``step()`` over the model's parameters
            (a ``honed.optim`` optimizer, or a ``MemberOptimizer``).
        penalty: None, or an object with ``value(m)`` (a float, or (P,)) and
            ``add_gradient(m)`` (``WeightPenalty``).
        capture: record the step once per batch shape and replay it.

    Attributes:
        capture: the :class:`~honed.train.capture.StepCapture`, or None.
    """

    def __init__(self, model, loss, optimizer, penalty=None, capture: bool = True):
        self.model, self.loss, self.optimizer, self.penalty = model, loss, optimizer, penalty
        self.capture = StepCapture(model, loss) if capture else None

    def forward(self, X_batch: np.ndarray, y_batch: np.ndarray):
        """The step's forward: replayed when captured, else eager (and recorded while the
        capture learns the step). The result has ``outputs``, ``cost`` (J) and
        ``backward()``."""
        capture = self.capture
        if capture is None or capture.disabled or not is_grad_enabled():
            return EagerForward(self.model, self.loss, X_batch, y_batch)
        key = capture.key(X_batch, y_batch)
        entry = capture.lookup(key)
        if entry is not None and entry[0] == "replay":
            return capture.replay(entry[1], X_batch, y_batch)
        if entry is None:  # a new key: the model may have changed, read it again
            key = capture.key(X_batch, y_batch, learn=True)
            entry = capture.lookup(key)
        if key is None or entry is not None and entry[0] == "eager":
            return EagerForward(self.model, self.loss, X_batch, y_batch)
        with Tape() as tape:
            x = Tensor(X_batch)
            outputs = self.model(x)
            tape.mark_loss()
            J = self.loss(outputs, y_batch)
        if isinstance(outputs, Tensor) and isinstance(J, Tensor):
            capture.record(key, tape, x, y_batch, outputs, J)
        return EagerForward.of(outputs, J)

    def costs(self, forward, m: int) -> np.ndarray:
        """``J + penalty`` in float64: 0-d for a standalone model, (P,) for members."""
        value = np.asarray(forward.cost, dtype=np.float64)
        if self.penalty is not None:
            value = value + self.penalty.value(m)
        return value

    def backward(self, forward, m: int) -> None:
        """Gradients of ``Σ_k (J_k + penalty_k)`` into every parameter's ``.grad`` (cleared
        first); the penalty's gradient is added outside the graph."""
        self.optimizer.zero_grad()
        forward.backward()
        if self.penalty is not None:
            self.penalty.add_gradient(m)

    def apply(self) -> None:
        """The optimizer's update from the gradients :meth:`backward` left."""
        self.optimizer.step()

    def update(self, forward, m: int) -> None:
        """:meth:`backward`, then :meth:`apply`."""
        self.backward(forward, m)
        self.optimizer.step()


__all__ = ["EagerForward", "TrainStep"]
