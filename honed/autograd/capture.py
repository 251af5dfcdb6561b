"""A captured step: record the ops of one eager forward, then replay forward and backward on
plain ndarrays, without making Tensors or walking a graph.

Recording runs the step eagerly inside a :class:`Tape`: every ``Function.apply`` is noted
with its inputs and keyword arguments. :func:`build_program` turns the notes into a
:class:`Program`, a list of ops whose inputs are named by where they come from:

* the output of an earlier op (by its index),
* a parameter (the Tensor itself: its current ``.data`` is read at every replay),
* the step's input ``X``,
* the step's targets ``y`` (reshaped and cast as the loss did), only among the loss's ops,
* a constant (copied at recording).

A replay calls each op's ``forward`` again, in order, with fresh arrays: randomness drawn
inside ``forward`` (dropout masks) comes from the same Generator in the same order, and state
updated inside ``forward`` (batch norm's running averages) is updated as eagerly. Backward
walks the ops in reverse creation order and sums each input's gradients in the same order
as ``Tensor.backward``, so a replayed step equals the eager one bit for bit.

A step that reads a tensor's values in Python while it is recorded (``item()``, a comparison)
is refused. What a replay cannot see otherwise (Python control flow on ``tensor.data``, arrays
computed outside ops) is the caller's to exclude: see ``honed.train.capture`` for the
Trainer's rules.
"""

from __future__ import annotations

import numpy as np

from honed.autograd.function import _grad_mode
from honed.autograd.tensor import Tensor, _accumulate_leaf, as_float_array

# Where an op's input comes from.
NODE, PARAM, INPUT, CONST, TARGET = range(5)


class NotReplayable(Exception):
    """The recorded step cannot be replayed safely; the message says why."""


class Tape:
    """Records every ``Function.apply`` of this thread while the ``with`` block runs.

    Attributes:
        entries: ``(function, inputs, kwargs, result)`` per op, in the order they ran.
        loss_start: index of the first op of the loss (:meth:`mark_loss`), or None.
    """

    def __init__(self):
        self.entries: list = []
        self.loss_start: int | None = None

    def __enter__(self) -> Tape:
        if _grad_mode.tape is not None:
            raise RuntimeError("a step is already being captured in this thread")
        _grad_mode.tape = self.entries
        return self

    def __exit__(self, *exc) -> None:
        _grad_mode.tape = None

    def mark_loss(self) -> None:
        """Note that the ops from here on compute the loss (targets may enter only there)."""
        self.loss_start = len(self.entries)


class Op:
    """One recorded op: its Function class, input sources, keyword arguments, and whether it
    was part of the graph (``records``) with which inputs wanted a gradient."""

    __slots__ = ("cls", "sources", "kwargs", "target_kwargs", "records", "needs_grad")

    def __init__(self, cls, sources, kwargs, target_kwargs, records, needs_grad):
        self.cls, self.sources, self.kwargs = cls, sources, kwargs
        self.target_kwargs, self.records, self.needs_grad = target_kwargs, records, needs_grad


def _target_form(value, y: np.ndarray, in_loss: bool):
    """How ``value`` was made from the targets ``y`` — ``None`` (``y`` itself) or
    ``(shape, dtype)`` (reshaped and cast) — or ``False`` when it was not.

    Only the loss's ops take targets, and only arrays with one row per example: a scalar
    constant there (``1 − y``'s 1) is never mistaken for a target.
    """
    if not in_loss or not isinstance(value, np.ndarray):
        return False
    if value is y:
        return None
    if value.ndim == 0 or value.size != y.size or value.shape[0] != len(y):
        return False
    same = np.array_equal(value, y.reshape(value.shape).astype(value.dtype, copy=False))
    return (value.shape, value.dtype) if same else False


def build_program(tape: Tape, x: Tensor, y: np.ndarray, params, outputs: Tensor, loss: Tensor):
    """The :class:`Program` of a recorded step.

    Args:
        tape: the recording, with the loss marked.
        x: the Tensor the step's input was wrapped in.
        y: the targets passed to the loss.
        params: the model's parameters (leaves allowed to require a gradient).
        outputs, loss: the model's outputs and the cost J, as the eager step returned them.

    Raises:
        NotReplayable: an op that is not marked replayable, a tensor requiring a gradient
            that no recorded op made and no parameter is, or outputs/J not made by an op.
    """
    y = np.asarray(y)
    index: dict[Tensor, int] = {}
    param_set = set(params)
    ops = []
    for i, (fn, inputs, kwargs, result) in enumerate(tape.entries):
        if fn is None:
            raise NotReplayable(
                f"the step read a tensor's values in Python ({inputs}): what it runs next "
                "may depend on the data"
            )
        cls = type(fn)
        if not cls.__dict__.get("replayable", False):
            raise NotReplayable(
                f"op {cls.__module__}.{cls.__qualname__} is not marked replayable "
                "(set replayable = True on the class if its forward depends only on its "
                "arrays and keyword arguments)"
            )
        in_loss = tape.loss_start is not None and i >= tape.loss_start
        sources = []
        for t in inputs:
            if t in index:
                sources.append((NODE, index[t]))
            elif t is x:
                sources.append((INPUT, None))
            elif t in param_set:
                sources.append((PARAM, t))
            elif t.requires_grad:
                raise NotReplayable(
                    f"op {cls.__qualname__} takes a tensor that requires a gradient but is "
                    "neither a parameter of the model nor made during the step"
                )
            else:
                form = _target_form(t.data, y, in_loss)
                if form is False:
                    sources.append((CONST, np.array(t.data, copy=True)))
                else:
                    sources.append((TARGET, form))
        fixed, targets = {}, {}
        for key, value in kwargs.items():
            form = _target_form(value, y, in_loss)
            if form is not False:
                targets[key] = form
            elif isinstance(value, np.ndarray):
                fixed[key] = np.array(value, copy=True)
            else:
                fixed[key] = value
        records = result.requires_grad
        needs = fn.needs_grad if records else ()
        ops.append(Op(cls, tuple(sources), fixed, targets, records, needs))
        index[result] = i
    if outputs not in index or loss not in index:
        raise NotReplayable("the model's outputs or the cost were not made by a recorded op")
    if not loss.requires_grad:
        raise NotReplayable("the cost does not require a gradient")
    return Program(ops, index[outputs], index[loss])


def record_step(model, loss, X: np.ndarray, y: np.ndarray) -> Program:
    """Run one eager step of ``model`` and ``loss`` on the batch ``X``, ``y`` while recording
    it, and return its :class:`Program` (for tools and benchmarks; the Trainer records
    through :class:`honed.train.capture.StepCapture`, which also checks a second recording
    against the first before it replays).

    Raises:
        NotReplayable: as :func:`build_program`.
    """
    with Tape() as tape:
        x = Tensor(X)
        outputs = model(x)
        tape.mark_loss()
        J = loss(outputs, y)
    return build_program(tape, x, y, model.parameters(), outputs, J)


def _same(a, b) -> bool:
    """Equal recorded values: arrays by dtype, shape and contents, objects by identity."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if a is None or isinstance(a, (bool, int, float, complex, str, np.dtype, np.generic)):
        return type(a) is type(b) and a == b
    return a is b


class Program:
    """A recorded step, replayable on new inputs and targets of the same shapes.

    Attributes:
        ops: the recorded :class:`Op` list, in creation order.
        outputs_index, loss_index: which ops made the model's outputs and the cost J.
    """

    def __init__(self, ops: list[Op], outputs_index: int, loss_index: int):
        self.ops = ops
        self.outputs_index, self.loss_index = outputs_index, loss_index
        self._lay_out()

    def _lay_out(self) -> None:
        """Number every value a replay handles — parameters, X, targets, constants, then
        one per op — so that it runs on one list by index (the replay's hot loops)."""
        params: list = []
        param_slot: dict = {}
        targets: list = []  # (slot, form)
        constants: list = []  # (slot, array)
        ops = self.ops
        for op in ops:
            for kind, what in op.sources:
                if kind == PARAM and what not in param_slot:
                    param_slot[what] = len(params)
                    params.append(what)
        n = len(params)
        input_slot = n
        n += 1
        plans = []
        node_base = None
        pending = []
        for op in ops:
            slots = []
            for kind, what in op.sources:
                if kind == PARAM:
                    slots.append(param_slot[what])
                elif kind == INPUT:
                    slots.append(input_slot)
                elif kind == NODE:
                    slots.append(("node", what))
                elif kind == CONST:
                    constants.append((n, what))
                    slots.append(n)
                    n += 1
                else:
                    targets.append((n, what))
                    slots.append(n)
                    n += 1
            pending.append(slots)
        node_base = n
        for op, slots in zip(ops, pending):
            slots = tuple(node_base + s[1] if isinstance(s, tuple) else s for s in slots)
            # (input slot, its gradient goes there) for the inputs that want one
            grad_to = tuple(
                slot if needs else -1 for slot, needs in zip(slots, op.needs_grad or ())
            )
            plans.append((op.cls, slots, op.kwargs, op.target_kwargs, op.needs_grad, grad_to))
        self._params, self._input_slot = params, input_slot
        self._targets, self._constants = targets, constants
        self._node_base, self._size = node_base, node_base + len(ops)
        self._plans = plans

    def difference(self, other: Program) -> str | None:
        """Why ``other`` (a second recording of the step) differs from this one, or None.

        A constant that changed between two steps was computed from the data outside the
        ops, and a different sequence of ops means Python control flow that depends on the
        data: either way a replay would be wrong.
        """
        if len(self.ops) != len(other.ops):
            return f"the step ran {len(self.ops)} ops, then {len(other.ops)}"
        if (self.outputs_index, self.loss_index) != (other.outputs_index, other.loss_index):
            return "the outputs or the cost came from a different op"
        for i, (a, b) in enumerate(zip(self.ops, other.ops)):
            name = f"op {i} ({a.cls.__qualname__})"
            if a.cls is not b.cls:
                return f"op {i} was {a.cls.__qualname__}, then {b.cls.__qualname__}"
            if (a.records, a.needs_grad) != (b.records, b.needs_grad):
                return f"{name} changed which inputs need a gradient"
            if len(a.sources) != len(b.sources):
                return f"{name} changed its number of inputs"
            for (kind_a, what_a), (kind_b, what_b) in zip(a.sources, b.sources):
                if kind_a != kind_b or not _same(what_a, what_b):
                    return f"{name} took a different input (a constant computed from the data?)"
            if a.target_kwargs != b.target_kwargs or a.kwargs.keys() != b.kwargs.keys():
                return f"{name} changed its keyword arguments"
            for key, value in a.kwargs.items():
                if not _same(value, b.kwargs[key]):
                    return f"{name} changed its argument {key!r} (computed from the data?)"
        return None

    def forward(self, X: np.ndarray, y: np.ndarray) -> Replay:
        """Run the recorded ops on a new batch; the returned :class:`Replay` holds the
        outputs, the cost and what backward needs."""
        y = np.asarray(y)
        values: list = [None] * self._size
        for i, param in enumerate(self._params):
            values[i] = param.data  # read now: the optimizer updates it between steps
        values[self._input_slot] = as_float_array(X)
        for slot, form in self._targets:
            values[slot] = _as_target(y, form)
        for slot, array in self._constants:
            values[slot] = array
        fns: list = []
        slot = self._node_base
        for cls, inputs, kwargs, target_kwargs, needs_grad, _ in self._plans:
            if target_kwargs:
                kwargs = dict(kwargs)
                for key, form in target_kwargs.items():
                    kwargs[key] = _as_target(y, form)
            fn = object.__new__(cls)
            fn.needs_grad = needs_grad
            out = fn.forward(*[values[i] for i in inputs], **kwargs)
            values[slot] = out if type(out) is np.ndarray else np.asarray(out)
            fns.append(fn)
            slot += 1
        return Replay(self, values, fns)


def _as_target(y: np.ndarray, form):
    if form is None:
        return y
    shape, dtype = form
    return y.reshape(shape).astype(dtype, copy=False)


class Replay:
    """One replayed forward: ``outputs`` and ``cost`` arrays; :meth:`backward` fills the
    parameters' ``.grad`` as ``cost.backward()`` would."""

    __slots__ = ("program", "values", "fns", "outputs", "cost")

    def __init__(self, program: Program, values: list, fns: list):
        self.program, self.values, self.fns = program, values, fns
        base = program._node_base
        self.outputs = values[base + program.outputs_index]
        self.cost = values[base + program.loss_index]

    def backward(self) -> None:
        """d(cost)/d(parameter) into each parameter's ``.grad`` (accumulated, as eagerly).

        The same order as ``Tensor.backward``: ops from the last made to the first, each
        input's contributions summed as they arrive (``previous + new``), the parameters'
        sums handed over last.
        """
        program, fns = self.program, self.fns
        plans, base = program._plans, program._node_base
        root = program.loss_index
        grads: list = [None] * program._size
        grads[base + root] = np.ones_like(self.cost)
        for i in range(root, -1, -1):
            g = grads[base + i]
            if g is None:
                continue
            grads[base + i] = None
            for slot, parent_grad in zip(plans[i][5], fns[i].backward(g)):
                if slot < 0 or parent_grad is None:
                    continue
                previous = grads[slot]
                grads[slot] = parent_grad if previous is None else previous + parent_grad
        given: set[int] = set()
        for i, param in enumerate(program._params):
            if grads[i] is not None:
                _accumulate_leaf(param, grads[i], given)
        self.values = self.fns = None  # let the step's arrays go
