"""``mlp``: the common fully connected network in one line."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from honed.autograd import no_grad
from honed.nn.layers import BatchNorm, Dense, Dropout, Sequential, check_keep_prob, get_activation

#: activations that get He initialization by default; the others get Xavier.
_RELU_FAMILY = {"relu", "leaky_relu", "elu"}
_OUTPUTS = (None, "softmax", "sigmoid", "linear")


class MLP(Sequential):
    """Fully connected network: hidden blocks ``Dense → [BatchNorm] → activation →
    [Dropout]``, then a final ``Dense`` giving logits.

    Args:
        sizes: layer widths, input first, e.g. ``[784, 256, 256, 10]``.
        activation: hidden activation name (``"relu"``, ``"tanh"``, ``"sigmoid"``,
            ``"leaky_relu"``, ``"elu"``).
        init: initializer name for every Dense; default He for the ReLU family, Xavier
            otherwise (notes).
        scale: multiplies the initializer's standard deviation.
        batch_norm: insert ``BatchNorm`` after each hidden Dense (whose bias is then dropped).
        keep_prob: dropout keep probability, one float for all hidden layers or a list with
            one per hidden layer; 1 means no dropout layer.
        output: ``"softmax"``, ``"sigmoid"``, ``"linear"`` (identity: regression, one output
            per target) or None: only what :meth:`predict_proba` applies to the logits;
            losses always take the logits.
        seed: seeds the initial weights and the dropout masks (``SeedSequence.spawn``).

    The constructor's arguments are kept (:meth:`config`), so :func:`honed.nn.save` can
    rebuild the model.
    """

    capturable = True  # the layers of Sequential, nothing else in forward

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        init: str | None = None,
        scale: float = 1.0,
        batch_norm: bool = False,
        keep_prob: float | Sequence[float] = 1.0,
        output: str | None = None,
        seed: int | None = 0,
    ):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes needs at least 2 positive widths, got {sizes}")
        if output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}, got {output!r}")
        n_hidden = len(sizes) - 2
        if isinstance(keep_prob, (list, tuple)):
            if len(keep_prob) != n_hidden:
                raise ValueError(
                    f"keep_prob has {len(keep_prob)} entries, the network has {n_hidden} "
                    "hidden layers"
                )
            keeps = [check_keep_prob(k) for k in keep_prob]
        else:
            keeps = [check_keep_prob(keep_prob)] * n_hidden
        act_name = str(activation).lower()
        get_activation(act_name)  # validates the name early
        if init is None:
            init = "he" if act_name in _RELU_FAMILY else "xavier"

        weight_seq, dropout_seq = np.random.SeedSequence(seed).spawn(2)
        rng = np.random.default_rng(weight_seq)
        dropout_seeds = dropout_seq.spawn(max(n_hidden, 1))
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            layers.append(
                Dense(n_in, n_out, init=init, scale=scale, rng=rng, bias=last or not batch_norm)
            )
            if last:
                break
            if batch_norm:
                layers.append(BatchNorm(n_out))
            layers.append(get_activation(act_name))
            if keeps[i] < 1.0:
                layers.append(Dropout(keeps[i], rng=np.random.default_rng(dropout_seeds[i])))
        super().__init__(*layers)
        self._config = {
            "sizes": sizes,
            "activation": act_name,
            "init": init,
            "scale": float(scale),
            "batch_norm": bool(batch_norm),
            "keep_prob": list(keep_prob)
            if isinstance(keep_prob, (list, tuple))
            else float(keep_prob),
            "output": output,
            "seed": seed,
        }

    def to_config(self) -> dict:
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict) -> MLP:
        return cls(**config)

    def predict_proba(self, x) -> np.ndarray:
        """Outputs in eval mode without a graph: logits passed through ``output``; a stacked
        model (:mod:`honed.nn.members`) gives (P, m, C), each member's."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                z = self.forward(x).data
        finally:
            self.train(was_training)
        kind = self._config["output"]
        if kind == "softmax":  # over the classes, the last axis (also with a member axis)
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        if kind == "sigmoid":
            return 1.0 / (1.0 + np.exp(-z))
        return z

    def predict(self, x) -> np.ndarray:
        """Class labels: arg-max of the outputs, or a threshold for one output column; the
        outputs themselves for a ``"linear"`` (regression) output."""
        out = self.predict_proba(x)
        if self._config["output"] == "linear":
            return out
        if out.shape[-1] > 1:
            return out.argmax(axis=-1)
        threshold = 0.5 if self._config["output"] == "sigmoid" else 0.0
        return (out[..., 0] > threshold).astype(np.int64)


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    init: str | None = None,
    scale: float = 1.0,
    batch_norm: bool = False,
    keep_prob: float | Sequence[float] = 1.0,
    output: str | None = None,
    seed: int | None = 0,
) -> MLP:
    """``MLP(...)``: e.g. ``mlp([784, 256, 256, 10], batch_norm=True, keep_prob=0.8)``."""
    return MLP(
        sizes,
        activation=activation,
        init=init,
        scale=scale,
        batch_norm=batch_norm,
        keep_prob=keep_prob,
        output=output,
        seed=seed,
    )


__all__ = ["MLP", "mlp"]
