"""The graph node: a :class:`Function` computes on ndarrays and knows its local derivative.

A ``Function`` subclass implements ``forward(*arrays)`` and ``backward(grad)`` on plain
ndarrays; ``apply`` wraps the result in a :class:`~honed.autograd.tensor.Tensor` and, when a
gradient is needed, records the node so that ``Tensor.backward`` can walk the graph.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator

import numpy as np


class _GradMode(threading.local):
    """Whether operations record the graph; thread-local like PyTorch's grad mode."""

    enabled = True
    # The tape of a step being captured (``honed.autograd.capture``): while it is a list,
    # every ``apply`` appends its node to it.
    tape = None


_grad_mode = _GradMode()

# Numbers the recorded operations in the order they were made: backward walks them in
# reverse (see ``tensor._topological_order``). ``next`` on a count is atomic under the GIL.
_ranks = itertools.count()


def is_grad_enabled() -> bool:
    """True when operations record the graph for ``backward``."""
    return _grad_mode.enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Context in which no graph is recorded (inference, parameter updates, evaluation)."""
    previous = _grad_mode.enabled
    _grad_mode.enabled = False
    try:
        yield
    finally:
        _grad_mode.enabled = previous


@contextlib.contextmanager
def enable_grad() -> Iterator[None]:
    """Context that records the graph even inside ``no_grad``."""
    previous = _grad_mode.enabled
    _grad_mode.enabled = True
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes along which an operand of ``shape`` was broadcast.

    If ``y = x + b`` broadcast ``b`` of shape ``(n,)`` to ``(m, n)``, each element of ``b`` was
    used m times, so its gradient is the sum over those m uses.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def note_value_read(what: str) -> None:
    """Tell a step being captured that Python read a tensor's values (``item()``, a
    comparison): the ops that follow may depend on them, so the step is not replayed."""
    tape = _grad_mode.tape
    if tape is not None:
        tape.append((None, what, None, None))


class Function:
    """One differentiable operation.

    Subclasses implement ``forward`` (ndarrays in, one ndarray out) and ``backward`` (the
    gradient of the output in, a tuple with one gradient per input out; ``None`` for inputs
    that need none). ``forward`` may save what ``backward`` needs on ``self``.
    ``self.needs_grad`` tells ``backward`` which inputs want a gradient, so it can skip work.

    Never modify the incoming gradient in place: the same array may be handed to several
    nodes.
    """

    #: The op's ``forward`` depends only on its input arrays and keyword arguments (and on the
    #: objects passed in them, such as a Generator), so a captured step may call it again
    #: without the code around it. Declared by each class itself, never inherited: a
    #: subclass that is not marked makes a captured step fall back to eager.
    replayable = False

    inputs: tuple
    rank: int  # when the node was recorded (a topological order of the graph)
    needs_grad: tuple[bool, ...]

    def forward(self, *arrays: np.ndarray, **kwargs) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run ``forward`` on the inputs' data and record the node if a gradient is needed.

        ``inputs`` are Tensors; keyword arguments are constants passed to ``forward``.
        This is the hot path of every operation, hence the unrolled common cases.
        """
        fn = object.__new__(cls)
        n = len(inputs)
        if n == 2:
            a, b = inputs
            out = fn.forward(a.data, b.data, **kwargs)
            record = _grad_mode.enabled and (a.requires_grad or b.requires_grad)
        elif n == 1:
            a = inputs[0]
            out = fn.forward(a.data, **kwargs)
            record = _grad_mode.enabled and a.requires_grad
        else:
            out = fn.forward(*[t.data for t in inputs], **kwargs)
            record = _grad_mode.enabled and any(t.requires_grad for t in inputs)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        if record:
            fn.rank = next(_ranks)
            fn.inputs = inputs
            fn.needs_grad = tuple([t.requires_grad for t in inputs])
            result = _make_tensor(out, fn)
        else:
            result = _make_tensor(out, None)
        tape = _grad_mode.tape
        if tape is not None:
            tape.append((fn, inputs, kwargs, result))
        return result


def _make_tensor(data, ctx):  # replaced by tensor.py at import (avoids a circular import)
    raise RuntimeError("honed.autograd.tensor was not imported")
