"""A Keras-style table of a model: each layer, its output shape and its parameter count.

The shapes come from one forward pass of a single zero example in eval mode (no graph), so
they are what the layers really produce; ``None`` stands for the batch dimension.
"""

from __future__ import annotations

import numpy as np


def _layers(model):
    """The layers to list: a container's children in order, else the model itself."""
    layers = getattr(model, "layers", None)
    return list(layers) if layers else [model]


def summary(model, input_shape=None) -> str:
    """The table of ``model``: layer, output shape, parameters, and the totals.

    Args:
        input_shape: the shape of one example, e.g. ``(784,)``; default: an MLP's first width.

    Raises:
        ValueError: no ``input_shape`` and the model does not know its input width.
    """
    from honed.autograd import Tensor, no_grad

    if input_shape is None:
        sizes = getattr(model, "to_config", lambda: {})().get("sizes")
        if not sizes:
            raise ValueError("input_shape is needed for a model that does not know its input")
        input_shape = (sizes[0],)
    input_shape = tuple(int(s) for s in np.atleast_1d(input_shape))
    dtype = next((p.data.dtype for p in model.parameters()), np.float32)
    x = Tensor(np.zeros((1, *input_shape), dtype=dtype))
    was_training = model.training
    model.eval()
    rows = []
    try:
        with no_grad():
            for i, layer in enumerate(_layers(model)):
                x = layer.forward(x)
                shape = "(None, " + ", ".join(str(s) for s in x.shape[1:]) + ")"
                n = int(sum(p.data.size for p in layer.parameters()))
                rows.append((f"{i}: {layer._short_repr()}", shape, n))
    finally:
        model.train(was_training)
    width = max(28, *(len(r[0]) + 2 for r in rows))
    rule = "─" * (width + 32)
    lines = [
        f"{type(model).__name__} (input {input_shape})",
        rule,
        f"{'layer':<{width}}{'output shape':<20}{'parameters':>12}",
        rule,
    ]
    lines += [f"{name:<{width}}{shape:<20}{n:>12,}" for name, shape, n in rows]
    total = model.num_parameters()
    trainable = int(sum(p.data.size for p in model.parameters() if p.requires_grad))
    lines += [rule, f"total parameters: {total:,} (trainable {trainable:,})"]
    return "\n".join(lines)


__all__ = ["summary"]
