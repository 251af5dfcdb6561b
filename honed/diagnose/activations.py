"""Activation statistics per layer: saturation, collapse or healthy spread (notes, SPEC §3).

The notes' experiment: 5 layers of 100 units, 1000 random inputs, sigmoid (or tanh, ReLU),
weights drawn with std 1, std 0.01, Xavier and He. With std 1 sigmoid outputs pile up at 0 and
1 (saturated: σ' ≈ 0, gradients vanish); with std 0.01 they collapse to 0.5 (every unit alike,
little representational power); Xavier (sigmoid/tanh) and He (ReLU) keep a healthy spread in
every layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from honed.autograd import Tensor, no_grad
from honed.nn.layers import ELU, Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Softmax, Tanh
from honed.nn.module import Module

_ACTIVATION_TYPES = (Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softmax)


@dataclass
class LayerStats:
    """Statistics of one activation layer's outputs over a batch.

    Attributes:
        name: the layer's position (``layers.3``) and kind.
        mean, std: over all units and examples.
        saturated: fraction of outputs where the activation is flat: sigmoid within ``tol`` of
            0 or 1, tanh with ``|a| > 1 − tol``, ReLU exactly 0 (no gradient flows).
        values: the outputs (for histograms).
    """

    name: str
    kind: str
    mean: float
    std: float
    saturated: float
    values: np.ndarray

    def row(self) -> str:
        return (
            f"{self.name:<12} {self.kind:<10} {self.mean:>8.4f} {self.std:>8.4f} "
            f"{100 * self.saturated:>8.1f}%"
        )


def saturation(layer: Module, a: np.ndarray, tol: float = 0.01) -> float:
    """Fraction of entries of ``a`` (outputs of ``layer``) in the flat part of its activation."""
    if isinstance(layer, Sigmoid):
        return float((np.minimum(a, 1 - a) < tol).mean())
    if isinstance(layer, Tanh):
        return float((np.abs(a) > 1 - tol).mean())
    if isinstance(layer, (ReLU, LeakyReLU, ELU)):
        return float((a <= 0).mean())  # the flat (or nearly flat) negative side
    return 0.0


def _layers(model_or_layers) -> list[Module]:
    if isinstance(model_or_layers, Sequential):
        return list(model_or_layers.layers)
    if isinstance(model_or_layers, Module):
        return [model_or_layers]
    return list(model_or_layers)


def activation_stats(model_or_layers, X, tol: float = 0.01) -> list[LayerStats]:
    """Run ``X`` through the layers (eval mode, no graph) and describe each activation output.

    Args:
        model_or_layers: a ``Sequential`` (e.g. from ``honed.nn.mlp``) or a list of layers.
        X: inputs of shape ``(m, n_in)``.
        tol: how close to the flat region counts as saturated (sigmoid/tanh).

    Returns:
        One :class:`LayerStats` per activation layer, in order.
    """
    layers = _layers(model_or_layers)
    was_training = [layer.training for layer in layers]
    stats = []
    try:
        for layer in layers:
            layer.eval()
        with no_grad():
            h = Tensor(X) if not isinstance(X, Tensor) else X
            for i, layer in enumerate(layers):
                h = layer(h)
                if isinstance(layer, _ACTIVATION_TYPES):
                    a = h.data
                    stats.append(
                        LayerStats(
                            name=f"layers.{i}",
                            kind=type(layer).__name__,
                            mean=float(a.mean()),
                            std=float(a.std()),
                            saturated=saturation(layer, a, tol),
                            values=a,
                        )
                    )
    finally:
        for layer, mode in zip(layers, was_training):
            layer.train(mode)
    return stats


def format_stats(stats: list[LayerStats]) -> str:
    """A table: layer, kind, mean, std, % saturated."""
    head = f"{'layer':<12} {'kind':<10} {'mean':>8} {'std':>8} {'saturated':>9}"
    return "\n".join([head] + [s.row() for s in stats])


#: the notes' weight choices: name -> (initializer, scale)
WEIGHT_SETTINGS = {
    "std 1": ("normal", 1.0),
    "std 0.01": ("normal", 0.01),
    "xavier": ("xavier", 1.0),
    "he": ("he", 1.0),
}


def deep_stack(
    activation: str = "sigmoid",
    weights: str = "xavier",
    n_layers: int = 5,
    width: int = 100,
    seed: int = 0,
) -> Sequential:
    """The experiment's network: ``n_layers`` × (Dense(width, width, bias 0) → activation).

    ``weights`` is one of :data:`WEIGHT_SETTINGS` ("std 1", "std 0.01", "xavier", "he").
    """
    from honed.nn.layers import get_activation

    if weights not in WEIGHT_SETTINGS:
        raise ValueError(f"weights must be one of {sorted(WEIGHT_SETTINGS)}, got {weights!r}")
    init, scale = WEIGHT_SETTINGS[weights]
    rng = np.random.default_rng(seed)
    layers: list[Module] = []
    for _ in range(n_layers):
        layers += [Dense(width, width, init=init, scale=scale, rng=rng), get_activation(activation)]
    return Sequential(*layers)


def init_experiment(
    activations=("sigmoid", "tanh", "relu"),
    weights=tuple(WEIGHT_SETTINGS),
    m: int = 1000,
    width: int = 100,
    n_layers: int = 5,
    seed: int = 0,
) -> dict[tuple[str, str], list[LayerStats]]:
    """The notes' experiment for every (activation, weights) pair, on the same N(0, 1) inputs."""
    X = np.random.default_rng(seed).standard_normal((m, width)).astype(np.float32)
    return {
        (act, w): activation_stats(deep_stack(act, w, n_layers, width, seed + 1), X)
        for act in activations
        for w in weights
    }


__all__ = [
    "LayerStats",
    "WEIGHT_SETTINGS",
    "activation_stats",
    "deep_stack",
    "format_stats",
    "init_experiment",
    "saturation",
]
