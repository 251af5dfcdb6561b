"""The :class:`Tensor`: an ndarray plus the graph that produced it, and reverse-mode backward.

Dtype rules:
    * Python scalars, lists and integer or bool arrays become the default float dtype,
      float32 (``dtype=`` asks for another, e.g. ``np.float64`` for gradient checking).
    * A floating ndarray keeps its dtype.
    * A Python scalar operand takes the tensor's dtype (``x * 2`` stays float32).
    * Mixing float32 and float64 tensors promotes to float64, as NumPy does; gradients are cast
      back to each input's own dtype, so a float32 parameter always gets a float32 ``.grad``.
"""

from __future__ import annotations

import numpy as np

from honed.autograd import function as _function
from honed.autograd.function import Function

DEFAULT_DTYPE = np.float32


def as_float_array(data, dtype=None) -> np.ndarray:
    """``data`` as a floating ndarray: ``dtype`` if given, float arrays kept, else float32."""
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if not isinstance(data, (np.ndarray, np.generic)):
        # Python scalars and lists: the default dtype, not NumPy's float64.
        return np.asarray(data, dtype=DEFAULT_DTYPE)
    array = np.asarray(data)
    if array.dtype.kind != "f":
        array = array.astype(DEFAULT_DTYPE)
    return array


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Args:
        data: array-like values.
        requires_grad: whether ``backward`` should compute ``.grad`` for this tensor.
        dtype: the float dtype; see the module docstring for the default rules.
        name: optional label, shown in ``repr`` and in gradient-check reports.

    Attributes:
        data: the values (``np.ndarray``).
        grad: the gradient of the last ``backward`` (accumulated with ``+=``), or ``None``.
        requires_grad: whether a gradient is computed for this tensor.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "name", "__weakref__")
    # Makes ``ndarray + Tensor`` call ``Tensor.__radd__`` instead of NumPy broadcasting
    # the tensor as an object.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_float_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self.name = name

    # -- properties ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """A tensor made by the user (not by an operation)."""
        return self._ctx is None

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        _function.note_value_read("item()")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def detach(self) -> Tensor:
        """A tensor sharing the data, cut from the graph."""
        return Tensor(self.data)

    def astype(self, dtype) -> Tensor:
        from honed.autograd.ops import cast

        return cast(self, dtype)

    def __repr__(self) -> str:
        extra = ", requires_grad=True" if self.requires_grad else ""
        name = f", name={self.name!r}" if self.name else ""
        body = np.array2string(self.data, precision=4, threshold=20, separator=", ")
        return f"{type(self).__name__}({body}, dtype={self.dtype}{extra}{name})"

    # -- backward -----------------------------------------------------------------------
    def backward(self, grad=None) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires a gradient.

        The graph is collected with an explicit stack (no recursion, so chains of any length
        work), ordered by when each node was made, and walked from this tensor back to the
        leaves. Gradients of leaves are accumulated into ``.grad`` with ``+=``: a tensor used
        twice gets both contributions, and calling ``backward`` twice adds up (call
        ``zero_grad`` between).

        Args:
            grad: d(loss)/d(self). May be omitted only for a one-element tensor (then 1).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation has requires_grad=True (or it ran under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() on a non-scalar tensor of shape {self.shape} needs a "
                    "gradient argument of the same shape"
                )
            grad = np.ones_like(self.data)
        else:
            # A copy: the caller keeps its array, and a leaf may keep this one as its .grad.
            grad = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward() gradient has shape {grad.shape}, the tensor has {self.shape}"
                )

        # Tensors are dict keys by identity (Tensor defines no __eq__, so hashing is
        # object's, in C): cheaper than calling id() for every lookup.
        grads = {self: grad}
        given_to_leaves: set[int] = set()
        for node in _topological_order(self):
            g = grads.pop(node, None)
            if g is None:
                continue
            ctx = node._ctx
            if ctx is None:
                _accumulate_leaf(node, g, given_to_leaves)
                continue
            for parent, parent_grad in zip(ctx.inputs, ctx.backward(g)):
                if parent_grad is None or not parent.requires_grad:
                    continue
                previous = grads.get(parent)
                # A new array, never ``+=``: the previous one may be shared with another node.
                grads[parent] = parent_grad if previous is None else previous + parent_grad

    def zero_grad(self) -> None:
        self.grad = None


def _creation_rank(tensor: Tensor) -> int:
    ctx = tensor._ctx
    return -1 if ctx is None else ctx.rank


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` (through inputs that require grad), root first.

    Every operation's output is made after its inputs, so the order in which the nodes were
    made (``Function.rank``, a global counter) is a topological order; walking it backwards
    visits a node only after every node that uses it. Leaves have no rank and come last
    (they use nothing). One pass to collect the nodes and a sort of a few dozen integers:
    cheaper than a depth-first search with an explicit stack of (node, expanded) pairs.
    """
    seen = {root}
    stack = [root]
    while stack:
        ctx = stack.pop()._ctx
        if ctx is None:
            continue
        for parent in ctx.inputs:
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=_creation_rank, reverse=True)


def _accumulate_leaf(leaf: Tensor, grad: np.ndarray, given_to_leaves: set[int]) -> None:
    """``leaf.grad += grad``, or keep ``grad`` itself as the first ``.grad`` when that is safe.

    Keeping the array saves a copy of every parameter's gradient at every step. It is safe
    only for a fresh array no one else holds: not a view (``a.reshape`` of a gradient), and
    not handed to another leaf in this backward pass (``a + b`` gives both the same array).
    Backward functions never keep or modify the gradients they return.
    """
    if leaf.grad is not None:
        leaf.grad += grad
        return
    if (
        grad.base is None
        and grad.dtype == leaf.data.dtype
        and grad.shape == leaf.data.shape
        and grad.flags.writeable
        and id(grad) not in given_to_leaves
    ):
        leaf.grad = grad
        given_to_leaves.add(id(grad))
        return
    if grad.shape != leaf.data.shape:
        grad = np.broadcast_to(grad, leaf.data.shape)
    leaf.grad = np.array(grad, dtype=leaf.data.dtype, copy=True)


class Parameter(Tensor):
    """A leaf tensor that a model learns: ``requires_grad`` is on by default."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None, name: str | None = None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, name=name)


def _make_tensor(data: np.ndarray, ctx: Function | None) -> Tensor:
    tensor = object.__new__(Tensor)
    tensor.data = data
    tensor.grad = None
    tensor.requires_grad = ctx is not None
    tensor._ctx = ctx
    tensor.name = None
    return tensor


_function._make_tensor = _make_tensor
