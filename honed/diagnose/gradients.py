"""Gradients of a real model: gradient checking and per-layer gradient norms.

The check follows the notes: run it in float64, with dropout switched off (a random mask
changes J between the two sides of a finite difference), after a few training steps so the
weights are not at their special initial values.
"""

from __future__ import annotations

import numpy as np

from honed.autograd import gradcheck
from honed.autograd.gradcheck import GradCheckResult


def switch_off_dropout(model) -> list:
    """Put every dropout layer in eval mode (identity); return them to switch back."""
    layers = [m for m in model.modules() if type(m).__name__ == "Dropout" and m.training]
    for layer in layers:
        layer.training = False
    return layers


def gradcheck_model(
    trainer,
    X: np.ndarray,
    y: np.ndarray,
    max_per_tensor: int | None = 20,
    seed: int = 0,
) -> GradCheckResult:
    """Gradient check of a trainer's cost ``J = loss(model(X), y) + penalty`` over every
    parameter of its model, in float64.

    The cost and its gradient come from the trainer itself (:meth:`Trainer.objective` and
    :meth:`Trainer.backward`): the loss and the L1/L2 penalty exactly as training computes
    them. The model is cast to float64 in place (cast it back with ``model.to(np.float32)``
    if you keep using it); batch norm stays in training mode, dropout is switched off for the
    check. Only ``max_per_tensor`` random entries of each tensor are checked (None: all).
    """
    model = trainer.model
    model.to(np.float64)
    model.train()
    dropout_layers = switch_off_dropout(model)
    X64 = np.asarray(X, dtype=np.float64)
    try:
        return gradcheck(
            lambda: trainer.objective(X64, y),
            model,
            max_per_tensor=max_per_tensor,
            seed=seed,
            backward=lambda J: trainer.backward(J, len(X64)),
        )
    finally:
        for layer in dropout_layers:
            layer.training = True


def gradient_norms(model) -> dict[str, float]:
    """‖dW‖₂ of each parameter after a backward pass: vanishing (tiny in early layers) or
    exploding (huge) gradients show up here."""
    return {
        name: float(np.linalg.norm(p.grad))
        for name, p in model.named_parameters()
        if p.grad is not None
    }
