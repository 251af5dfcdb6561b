"""Primitive operations: one :class:`Function` subclass each, plus its lowercase wrapper.

Local rules of backprop on the computational graph (the notes): addition distributes the
gradient unchanged, multiplication switches it (each input gets the gradient times the
other input), max routes it to the input that won.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from honed.autograd.function import Function, note_value_read, unbroadcast
from honed.autograd.tensor import Tensor, _make_tensor


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; a Python scalar takes the dtype of ``like``."""
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, numbers.Number):
        return _make_tensor(np.array(value, dtype=like.data.dtype), None)
    return Tensor(value)


# -- arithmetic ---------------------------------------------------------------------------
class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), (unbroadcast(-g, sb) if self.needs_grad[1] else None)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g * b, a.shape) if self.needs_grad[0] else None
        gb = unbroadcast(g * a, b.shape) if self.needs_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g / b, a.shape) if self.needs_grad[0] else None
        gb = unbroadcast(-g * a / (b * b), b.shape) if self.needs_grad[1] else None
        return ga, gb


class Pow(Function):
    """``a ** b``: d/da = b·a^(b−1), d/db = a^b·log a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g * b * a ** (b - 1), a.shape) if self.needs_grad[0] else None
        gb = None
        if self.needs_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = unbroadcast(g * self.out * np.log(a), b.shape)
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class MatMul(Function):
    """``a @ b`` for 1-D, 2-D and batched operands; batch dimensions broadcast."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                f"matmul needs arrays of at least 1 dimension, got shapes {a.shape} and {b.shape}"
            )
        inner_a = a.shape[-1]
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if inner_a != inner_b:
            raise ValueError(
                f"matmul shape mismatch: {a.shape} @ {b.shape} "
                f"(inner dimensions {inner_a} and {inner_b} differ)"
            )
        self.a, self.b = a, b
        return a @ b

    def backward(self, g):
        a, b = self.a, self.b
        # Treat 1-D operands as a row (left) or column (right) matrix, as NumPy does.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if self.needs_grad[0]:
            ga = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_grad[1]:
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


# -- reductions ---------------------------------------------------------------------------
def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim if ndim else a for a in axes))


def _expand_reduced(g, axes, keepdims):
    return g if keepdims else np.expand_dims(g, axes)


class Sum(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape = a.shape
        self.axes = _normalize_axis(axis, a.ndim)
        self.keepdims = keepdims
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, g):
        return (np.broadcast_to(_expand_reduced(g, self.axes, self.keepdims), self.shape),)


class Mean(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape = a.shape
        self.axes = _normalize_axis(axis, a.ndim)
        self.keepdims = keepdims
        self.count = int(np.prod([a.shape[i] for i in self.axes])) if a.ndim else 1
        return a.mean(axis=axis, keepdims=keepdims)

    def backward(self, g):
        g = _expand_reduced(g, self.axes, self.keepdims) / self.count
        return (np.broadcast_to(g, self.shape),)


class Max(Function):
    """Maximum over axes; the gradient goes to the arg-max, split evenly between ties."""

    def forward(self, a, axis=None, keepdims=False):
        self.axes = _normalize_axis(axis, a.ndim)
        self.keepdims = keepdims
        out = a.max(axis=axis, keepdims=True)
        self.mask = a == out
        return out if keepdims else np.squeeze(out, axis=self.axes)

    def backward(self, g):
        g = _expand_reduced(g, self.axes, self.keepdims)
        mask = self.mask
        count = mask.sum(axis=self.axes, keepdims=True)
        return (mask * (g / count),)


class Maximum(Function):
    """Elementwise ``max(a, b)``; at a tie each input gets half the gradient."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        share_a = (a > b) + 0.5 * (a == b)
        ga = unbroadcast(g * share_a, a.shape) if self.needs_grad[0] else None
        gb = unbroadcast(g * (1.0 - share_a), b.shape) if self.needs_grad[1] else None
        return ga, gb


# -- shape --------------------------------------------------------------------------------
class Reshape(Function):
    def forward(self, a, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return (g.reshape(self.shape),)


class Transpose(Function):
    def forward(self, a, axes=None):
        self.axes = axes
        return a.transpose(axes)

    def backward(self, g):
        if self.axes is None:
            return (g.transpose(),)
        return (g.transpose(np.argsort(self.axes)),)


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice, type(None), type(Ellipsis))) for i in items)


class GetItem(Function):
    """Indexing and slicing; repeated indices (advanced indexing) accumulate their gradients."""

    def forward(self, a, index):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, g):
        out = np.zeros(self.shape, dtype=np.result_type(self.dtype, g.dtype))
        if _is_basic_index(self.index):
            out[self.index] = g
        else:
            np.add.at(out, self.index, g)
        return (out,)


class Concatenate(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, g):
        return tuple(np.split(g, self.splits, axis=self.axis))


class Cast(Function):
    def forward(self, a, dtype):
        self.dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return (g.astype(self.dtype),)


# -- elementwise --------------------------------------------------------------------------
class Exp(Function):
    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, g):
        return (g * self.out,)


class Log(Function):
    """Natural log; a negative input gives NaN with NumPy's RuntimeWarning, as in NumPy."""

    def forward(self, a):
        self.a = a
        return np.log(a)

    def backward(self, g):
        return (g / self.a,)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, g):
        return (g * np.sign(self.a),)


class Sqrt(Function):
    def forward(self, a):
        self.out = np.sqrt(a)
        return self.out

    def backward(self, g):
        return (g / (2 * self.out),)


class Clip(Function):
    """Clamp to [low, high]; the gradient passes where the input was inside the range."""

    def forward(self, a, low=None, high=None):
        self.inside = np.ones(a.shape, dtype=bool)
        if low is not None:
            self.inside &= a >= low
        if high is not None:
            self.inside &= a <= high
        return np.clip(a, low, high)

    def backward(self, g):
        return (g * self.inside,)


class Where(Function):
    """``where(cond, a, b)``: the gradient goes to ``a`` where cond holds, else to ``b``."""

    def forward(self, a, b, condition):
        self.condition = np.asarray(condition, dtype=bool)
        self.shapes = a.shape, b.shape
        return np.where(self.condition, a, b)

    def backward(self, g):
        sa, sb = self.shapes
        zero = np.zeros((), dtype=g.dtype)
        ga = unbroadcast(np.where(self.condition, g, zero), sa) if self.needs_grad[0] else None
        gb = unbroadcast(np.where(self.condition, zero, g), sb) if self.needs_grad[1] else None
        return ga, gb


def _pair(a, b) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; a Python scalar takes the other operand's dtype."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return a, b
        return a, as_tensor(b, a)
    return as_tensor(a, b if isinstance(b, Tensor) else None), b


# -- wrappers -----------------------------------------------------------------------------
def add(a, b):
    return Add.apply(*_pair(a, b))


def sub(a, b):
    return Sub.apply(*_pair(a, b))


def mul(a, b):
    return Mul.apply(*_pair(a, b))


def div(a, b):
    return Div.apply(*_pair(a, b))


def pow(a, b):  # noqa: A001 - mirrors the operator's name
    return Pow.apply(*_pair(a, b))


def neg(a):
    return Neg.apply(as_tensor(a))


def matmul(a, b):
    a = as_tensor(a)
    return MatMul.apply(a, as_tensor(b, a))


def sum(a, axis=None, keepdims=False):  # noqa: A001
    return Sum.apply(as_tensor(a), axis=axis, keepdims=keepdims)


def mean(a, axis=None, keepdims=False):
    return Mean.apply(as_tensor(a), axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims=False):  # noqa: A001
    return Max.apply(as_tensor(a), axis=axis, keepdims=keepdims)


def maximum(a, b):
    return Maximum.apply(*_pair(a, b))


def reshape(a, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape.apply(as_tensor(a), shape=shape)


def transpose(a, axes=None):
    return Transpose.apply(as_tensor(a), axes=None if axes is None else tuple(axes))


def getitem(a, index):
    if isinstance(index, Tensor):
        index = index.data.astype(np.intp)
    return GetItem.apply(as_tensor(a), index=index)


def concatenate(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    return Concatenate.apply(*tensors, axis=axis)


def cast(a, dtype):
    return Cast.apply(as_tensor(a), dtype=np.dtype(dtype))


def exp(a):
    return Exp.apply(as_tensor(a))


def log(a):
    return Log.apply(as_tensor(a))


def abs(a):  # noqa: A001
    return Abs.apply(as_tensor(a))


def sqrt(a):
    return Sqrt.apply(as_tensor(a))


def clip(a, low=None, high=None):
    if low is not None and high is not None and low > high:
        raise ValueError(f"clip needs low <= high, got low={low}, high={high}")
    return Clip.apply(as_tensor(a), low=low, high=high)


def where(condition, a, b):
    if isinstance(condition, Tensor):
        condition = condition.data
    a = as_tensor(a, b if isinstance(b, Tensor) else None)
    return Where.apply(a, as_tensor(b, a), condition=condition)


# Each op above computes only from its input arrays and keyword arguments: a captured step
# may call its forward again (``honed.autograd.capture``).
for _op in (
    Add, Sub, Mul, Div, Pow, Neg, MatMul, Sum, Mean, Max, Maximum, Reshape, Transpose,
    GetItem, Concatenate, Cast, Exp, Log, Abs, Sqrt, Clip, Where,
):  # fmt: skip
    _op.replayable = True


# -- operators, bound once ----------------------------------------------------------------
def _bind_operators() -> None:
    T = Tensor
    T.__add__ = add
    T.__radd__ = lambda self, other: add(other, self)
    T.__sub__ = sub
    T.__rsub__ = lambda self, other: sub(other, self)
    T.__mul__ = mul
    T.__rmul__ = lambda self, other: mul(other, self)
    T.__truediv__ = div
    T.__rtruediv__ = lambda self, other: div(other, self)
    T.__pow__ = pow
    T.__rpow__ = lambda self, other: pow(other, self)
    T.__neg__ = neg
    T.__matmul__ = matmul
    T.__rmatmul__ = lambda self, other: matmul(other, self)
    T.__getitem__ = getitem
    # Comparisons are not differentiable: they return boolean ndarrays.
    T.__lt__ = lambda self, other: _compared(self, other, operator.lt)
    T.__le__ = lambda self, other: _compared(self, other, operator.le)
    T.__gt__ = lambda self, other: _compared(self, other, operator.gt)
    T.__ge__ = lambda self, other: _compared(self, other, operator.ge)
    T.sum = sum
    T.mean = mean
    T.max = max
    T.reshape = reshape
    T.transpose = transpose
    T.T = property(lambda self: transpose(self))
    T.exp = exp
    T.log = log
    T.abs = abs
    T.sqrt = sqrt
    T.clip = clip


def _data(value):
    return value.data if isinstance(value, Tensor) else value


def _compared(tensor: Tensor, other, compare) -> np.ndarray:
    note_value_read("a comparison")  # Python may branch on it: a captured step must know
    return compare(tensor.data, _data(other))


_bind_operators()
