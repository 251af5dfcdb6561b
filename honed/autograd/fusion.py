"""Capture-time fusion: a linear op whose output only feeds an activation becomes one op.

A layer ``Dense → ReLU`` records two ops, ``z = x·W + b`` and ``a = g(z)``. In a captured
:class:`~honed.autograd.capture.Program` :func:`fuse` replaces such a pair by one
:class:`LinearActivation`:

* forward ``z = x·W + b`` (the linear op's own forward), then ``a = g(z)`` written over z
  (z is the fused op's own array: nothing else reads it);
* backward ``dz = g_a ⊙ g'(z)`` (the activation's backward), then ``dx = dz·Wᵀ``,
  ``dW = xᵀ·dz``, ``db = Σ_rows dz`` (the linear op's backward).

Both halves are the unfused ops' own code, so a fused replay computes the same arithmetic
in the same order as the eager step, bit for bit; what it saves is one op of the replay
loop each way and the activation's output array.

A pair is fused only when the activation comes right after the linear op, takes z as its
only input, and z is used nowhere else (not by another op, not as the model's outputs or
the cost): a pre-activation read twice keeps its two ops.
"""

from __future__ import annotations

from collections import Counter

from honed.autograd.function import Function
from honed.autograd.functional import ELU, LeakyReLU, Linear, MemberLinear, ReLU, Sigmoid, Tanh

#: ops that compute z = x·W + b
LINEARS = (Linear, MemberLinear)
#: activations a linear op fuses with (each takes ``in_place``)
ACTIVATIONS = (ReLU, LeakyReLU, Tanh, Sigmoid, ELU)

# Where an op's input comes from (as in honed.autograd.capture).
NODE = 0


class LinearActivation(Function):
    """``a = g(x·W + b)`` in one op: ``linear`` and ``activation`` are the two ops' classes,
    ``options`` the activation's keyword arguments (``slope``, ``alpha``).

    Backward: ``dz = g_a ⊙ g'(z)``, then the linear op's ``dx = dz·Wᵀ``, ``dW = xᵀ·dz``,
    ``db = Σ_rows dz`` (for the inputs in ``needs_grad``).
    """

    replayable = True

    def forward(self, *arrays, linear, activation, **options):
        lin, act = object.__new__(linear), object.__new__(activation)
        self.linear, self.activation = lin, act
        return act.forward(lin.forward(*arrays), in_place=True, **options)

    def backward(self, g):
        (dz,) = self.activation.backward(g)
        self.linear.needs_grad = self.needs_grad  # the linear op's inputs are this op's
        return self.linear.backward(dz)


def fuse(ops: list, outputs_index: int, loss_index: int, make_op) -> tuple[list, int, int]:
    """The recorded ``ops`` with each fusable (linear, activation) pair as one op.

    Args:
        ops: a Program's ops (``cls``, ``sources``, ``kwargs``, ``target_kwargs``,
            ``records``, ``needs_grad``), in creation order.
        outputs_index, loss_index: the ops that made the model's outputs and the cost.
        make_op: the Op constructor, ``make_op(cls, sources, kwargs, target_kwargs,
            records, needs_grad)``.

    Returns:
        The new ops (node sources renumbered), and the new outputs and loss indices.
    """
    uses = Counter(what for op in ops for kind, what in op.sources if kind == NODE)
    fused, new_index = [], {}
    i = 0
    while i < len(ops):
        op = ops[i]
        following = ops[i + 1] if i + 1 < len(ops) else None
        pair = (
            following is not None
            and op.cls in LINEARS
            and following.cls in ACTIVATIONS
            and op.records
            and following.records
            and not op.kwargs
            and not op.target_kwargs
            and not following.target_kwargs
            and len(following.sources) == 1
            and following.sources[0][0] == NODE
            and following.sources[0][1] == i
            and uses[i] == 1
            and i not in (outputs_index, loss_index)
        )
        sources = tuple(
            (kind, new_index[what]) if kind == NODE else (kind, what) for kind, what in op.sources
        )
        new_index[i] = len(fused)
        if pair:
            kwargs = {"linear": op.cls, "activation": following.cls, **following.kwargs}
            fused.append(make_op(LinearActivation, sources, kwargs, {}, True, op.needs_grad))
            new_index[i + 1] = new_index[i]
            i += 2
        else:
            fused.append(
                make_op(op.cls, sources, op.kwargs, op.target_kwargs, op.records, op.needs_grad)
            )
            i += 1
    return fused, new_index[outputs_index], new_index[loss_index]
