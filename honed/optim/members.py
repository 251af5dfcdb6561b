"""Per-member optimizers: P models, each with its own optimizer, updated together.

A population (SPEC §14) is one model whose parameters carry a leading member axis of P
members (``W (P, n_in, n_out)``, ``b (P, 1, n)``, ...). Member k may use any optimizer that
declares ``population = True`` (GD, Momentum, RMSprop, Adam) with its own hyperparameters.
Every such optimizer declares its update as the coefficients of one unified rule
(:meth:`honed.optim.Optimizer.member_coefficients`, in the optimizer's own module); for
member k at its step ``t_k`` with gradient ``g``::

    v := b1_k · v + c1_k · g
    s := b2_k · s + (c2_k · g) · g
    W := W − step_k · v / (√s + e_k)

which is the standalone optimizer's update with the same operations in the same order, so
member k's weights are those of ``honed.optim.<Its optimizer>`` on the same gradients, to the
last bit. (GD: ``b1 = 0, c1 = 1``, no ``s``, ``e = 1``; Adam keeps ``v = v_dW/(1−β₁)``,
``s = s_dW/(1−β₂)``, see :class:`honed.optim.Adam`.)

The joined buffer: every parameter's ``.data`` becomes a view into ONE ``(P, R)`` array
(row k = member k's R numbers, parameter after parameter), and the gradients, ``v`` and
``s`` are ``(P, R)`` arrays laid out the same way. The coefficients are ``(P, 1)`` columns
that broadcast along the rows, so a step is about ten NumPy passes whatever the depth (or
one compiled pass with the ``accel`` extra, :mod:`honed.optim.kernels`, the same numbers).

Example::

    W = Parameter(rng.standard_normal((3, 4, 2)))      # 3 members of a (4, 2) weight
    b = Parameter(np.zeros((3, 1, 2)))
    opt = MemberOptimizer([W, b], [{"optimizer": "adam", "lr": 1e-3},
                                   {"optimizer": "momentum", "lr": 0.1, "beta": 0.8},
                                   {"optimizer": "gd", "lr": 0.5}])
    ...backward of the sum of the members' costs...
    opt.step()
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from honed import validation as check
from honed.optim import kernels as _kernels
from honed.optim.optimizer import (
    OPTIMIZERS,
    Optimizer,
    _parameter_list,
    declared_option,
    default_lr,
    population_optimizers,
)

__all__ = ["MemberOptimizer"]


def _hyperparameters() -> dict:
    """Every hyperparameter (after ``lr``) of the optimizers that train members, with its one
    shared declaration: a member carries all of them, so it can switch optimizer (PBT)."""
    names = population_optimizers()
    declared = {o.name for n in names for o in OPTIMIZERS.options(n)}
    return {name: declared_option(name, names) for name in sorted(declared)}


class _Group:
    """The members that use one optimizer class: positions and hyperparameter vectors."""

    __slots__ = ("cls", "idx", "sel", "hyper")

    def __init__(self, cls, idx: np.ndarray, sel, hyper: dict):
        self.cls, self.idx, self.sel, self.hyper = cls, idx, sel, hyper


class MemberOptimizer:
    """Per-member optimizers over parameters with a leading member axis P.

    Args:
        params: Parameters (or a module with ``.parameters()``) whose arrays all have P
            rows first (any shape ``(P, ...)``), one float dtype (float32 or float64). Their
            ``.data`` are re-bound to views of the joined ``(P, R)`` buffer (values kept).
        settings: one dict per member: ``{"optimizer": "adam", "lr": 0.001, "beta1": ...}``.
            ``optimizer`` names a registered optimizer that declares ``population = True``;
            missing keys take that optimizer's defaults; a member may also carry the
            hyperparameters of the other population optimizers (kept for a later switch).
        kernels: ``"auto"`` (numba when installed, else NumPy), ``"numpy"`` or ``"numba"``;
            None (the default) reads ``HONED_KERNELS``, else ``"auto"``. NumPy is the
            reference; both give the same bits.

    Attributes:
        params: the parameter list.
        settings: per member, the complete settings (name, lr and every hyperparameter).
        kernels: ``"numpy"`` or ``"numba"``.
        buffer, grad_buffer, v, s: the ``(P, R)`` arrays (``s`` None while no member needs a
            second moment).

    Raises:
        ValueError: bad settings (naming the member and the key), parameters without the
            member axis, mixed dtypes.

    The parameters' ``.data`` must stay the views of :attr:`buffer`. When something else
    re-binds them (``Module.to``, a model's ``load_state_dict``, the stacked model's own
    ``take``), the next :meth:`step` or :meth:`copy_member` adopts the new values (same
    shapes); after the model dropped members, call :meth:`take` with the same positions.
    """

    #: the NumPy path updates blocks of about this many numbers (all passes over a block while
    #: it is in cache; whole-buffer passes over a large population would stream from memory)
    BLOCK = 1 << 16

    def __init__(self, params, settings: Sequence[Mapping], kernels: str | None = None):
        self.params = _parameter_list(params)
        self.kernels = _kernels.resolve(kernels)
        if isinstance(settings, Mapping) or not isinstance(settings, Sequence):
            raise ValueError(
                f"settings must be a list with one dict per member, got {type(settings).__name__}"
            )
        P = len(settings)
        dtype = self.params[0].data.dtype
        for i, p in enumerate(self.params):
            if p.data.dtype != dtype:
                raise ValueError(
                    f"params[{i}] is {p.data.dtype}, params[0] is {dtype}: one dtype for all"
                )
            if p.data.ndim < 1 or p.data.shape[0] != P:
                raise ValueError(
                    f"params[{i}] has shape {p.data.shape}; with {P} members (settings) its "
                    f"leading member axis must have length {P}"
                )
        self.dtype = dtype
        self.settings = [self._checked(k, s) for k, s in enumerate(settings)]
        self.t = np.zeros(P, dtype=np.int64)
        self._lr = np.array([s["lr"] for s in self.settings], dtype=np.float64)
        self._shapes = [p.data.shape[1:] for p in self.params]
        sizes = [math.prod(s) for s in self._shapes]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self._offsets_array = np.array(self._offsets[:-1], dtype=np.int64)
        buffer = np.empty((P, self._offsets[-1]), dtype=dtype)
        for p, view in zip(self.params, self._views(buffer)):
            view[...] = p.data
        self._bind(buffer)
        self.v = np.zeros_like(buffer)
        self.s = None
        self._prepare()

    # -- settings -----------------------------------------------------------------------
    def _checked(self, k: int, member: Mapping) -> dict:
        """Member ``k``'s settings, complete and validated (ValueError naming member and key)."""
        if not isinstance(member, Mapping):
            raise ValueError(f"settings[{k}] must be a dict, got {type(member).__name__}")
        if "optimizer" not in member:
            raise ValueError(f"settings[{k}] has no 'optimizer' (one of {self.names()})")
        name = str(member["optimizer"]).strip().lower()
        if name not in self.names():
            raise ValueError(
                f"settings[{k}]['optimizer'] must be one of {', '.join(self.names())} (the "
                f"optimizers that declare population = True), got {member['optimizer']!r}"
            )
        cls = OPTIMIZERS.get(name)
        if cls.member_coefficients is Optimizer.member_coefficients:
            raise ValueError(
                f"settings[{k}]['optimizer']: {name!r} declares population = True but not its "
                "update (define member_coefficients on the class; see honed.optim.Adam)"
            )
        hyper = _hyperparameters()
        unknown = sorted(set(member) - {"optimizer", "lr", *hyper})
        if unknown:
            raise ValueError(
                f"settings[{k}] has unknown key {unknown[0]!r} (a member takes optimizer, lr, "
                f"{', '.join(hyper)})"
            )
        lr = member.get("lr")
        if callable(lr):
            raise ValueError(
                f"settings[{k}]['lr'] must be a number (the trainer applies schedules with "
                "set_lr), got a callable"
            )
        out = {"optimizer": OPTIMIZERS.name_of(cls)}
        try:  # the checks raise TypeError for a non-number: a bad value all the same
            out["lr"] = check.positive(
                f"settings[{k}]['lr']", lr if lr is not None else default_lr(cls)
            )
            for key, option in hyper.items():
                value = member.get(key)
                out[key] = (
                    option.default
                    if value is None
                    else option.validate(value, f"settings[{k}][{key!r}]")
                )
        except TypeError as error:
            raise ValueError(str(error)) from None
        return out

    @staticmethod
    def names() -> list[str]:
        """The optimizers a member may use (registered with ``population = True``)."""
        return population_optimizers()

    def set_hyperparameters(self, k: int, settings: Mapping) -> None:
        """Change member ``k``'s settings (keys given replace, others stay): PBT's explore.

        Switching optimizer keeps the member's ``v``, ``s`` and ``t``.
        """
        k = self._member(k, "k")
        merged = {**self.settings[k], **dict(settings)}
        self.settings[k] = self._checked(k, merged)
        self._lr[k] = self.settings[k]["lr"]
        self._prepare()

    def _member(self, k, name: str) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < self.P:
            raise ValueError(f"{name} must be a member position in [0, {self.P}), got {k!r}")
        return int(k)

    # -- learning rates -----------------------------------------------------------------
    @property
    def P(self) -> int:
        """Number of members."""
        return len(self.settings)

    @property
    def needs_second_moment(self) -> bool:
        """Whether ``s`` is kept (some member uses, or used, RMSprop or Adam): one more
        ``(P, R)`` array, for a memory estimate."""
        return self.s is not None

    @property
    def lr(self) -> np.ndarray:
        """(P,) the members' learning rates now (a copy)."""
        return self._lr.copy()

    def set_lr(self, values) -> None:
        """Set every member's learning rate: ``values`` (P,) finite numbers > 0 (a trainer
        applies the members' schedules with this at each epoch)."""
        lr = np.array(values, dtype=np.float64).reshape(-1)
        if lr.shape != (self.P,):
            raise ValueError(
                f"set_lr needs {self.P} learning rates (one per member), got {lr.shape}"
            )
        bad = np.flatnonzero(~(np.isfinite(lr) & (lr > 0)))
        if bad.size:
            k = int(bad[0])
            raise ValueError(f"lr of member {k} must be a finite number > 0, got {float(lr[k])}")
        if np.array_equal(lr, self._lr):
            return  # unchanged (a trainer sets them every epoch): keep the tables
        self._lr = lr
        for k, value in enumerate(lr.tolist()):
            self.settings[k]["lr"] = value
        self._prepare()

    # -- the joined buffer --------------------------------------------------------------
    def _views(self, buffer: np.ndarray) -> list[np.ndarray]:
        """Views of ``buffer`` (P, R) shaped as the parameters (member k's numbers in row k)."""
        P = buffer.shape[0]
        views = []
        for shape, lo, hi in zip(self._shapes, self._offsets, self._offsets[1:]):
            view = buffer[:, lo:hi].reshape((P, *shape))
            assert view.size == 0 or np.may_share_memory(view, buffer)  # a view, not a copy
            views.append(view)
        return views

    def _bind(self, buffer: np.ndarray) -> None:
        self.buffer = buffer
        self._param_views = self._views(buffer)
        for p, view in zip(self.params, self._param_views):
            p.data = view
        self.grad_buffer = None  # the NumPy path's gathered gradients (made when needed)
        self._scratch = None

    def _adopt(self) -> None:
        """Take back parameters whose ``.data`` someone re-bound (values copied in)."""
        for i, (p, view) in enumerate(zip(self.params, self._param_views)):
            if p.data is view:
                continue
            if p.data.dtype != view.dtype:
                raise ValueError(
                    f"params[{i}] is now {p.data.dtype}, the optimizer's buffer {view.dtype} "
                    "(make the optimizer after Module.to)"
                )
            if p.data.shape != view.shape:
                raise ValueError(
                    f"params[{i}] now has shape {p.data.shape}, the optimizer's members "
                    f"{view.shape} (after removing members from the model, call take() too)"
                )
            view[...] = p.data
            p.data = view

    # -- coefficients ---------------------------------------------------------------------
    def _prepare(self) -> None:
        """Group the members by optimizer and precompute what does not change per step
        (after any change of the members, their optimizers or hyperparameters)."""
        groups: dict[type[Optimizer], list[int]] = {}
        for k, s in enumerate(self.settings):
            groups.setdefault(OPTIMIZERS.get(s["optimizer"]), []).append(k)
        self._groups = []
        for cls, members in groups.items():
            idx = np.array(members, dtype=np.intp)
            # a slice when the group is every member in order: cheaper to index with
            everyone = members == list(range(self.P))
            hyper = {
                o.name: np.array([self.settings[k][o.name] for k in members], dtype=np.float64)
                for o in cls.options
            }
            self._groups.append(_Group(cls, idx, slice(None) if everyone else idx, hyper))
        self._coef = np.zeros((6, self.P), dtype=self.dtype)  # b1, c1, b2, c2, step, e
        self._columns = [row[:, None] for row in self._coef]  # (P, 1) views, updated in place
        self._t_uniform = bool(self.P) and bool((self.t == self.t[0]).all())
        self._t0 = int(self.t[0]) if self._t_uniform else None
        coef64 = np.zeros((6, self.P), dtype=np.float64)
        for group in self._groups:
            # the next step's coefficients: also what the flags below are read from
            coef64[:, group.idx] = self._coefficients(group, self.t[group.idx] + 1)
        self._coef[...] = coef64  # rounded to the dtype as NumPy rounds a Python float
        self._by_t = [g for g in self._groups if g.cls.member_coefficients_use_t]
        self._table, self._table_from = None, 0
        self._all_c1_one = bool((coef64[1] == 1.0).all())
        self._all_c2_one = bool((coef64[3] == 1.0).all())
        if self.s is None and bool((coef64[3] != 0.0).any()):
            self.s = np.zeros_like(self.buffer)  # a member needs a second moment from now on

    def _coefficients(self, group: _Group, t: np.ndarray) -> np.ndarray:
        """(6, *t.shape) float64: the group's declared coefficients at update counts ``t``
        ((n,) or a (T, 1) column of the next T steps: the fields broadcast)."""
        lr = self._lr[group.idx]
        c = group.cls.member_coefficients(lr, t, **group.hyper)
        shape = np.broadcast_shapes(lr.shape, np.shape(t))
        return np.stack([np.broadcast_to(np.asarray(x, dtype=np.float64), shape) for x in c])

    #: the compiled kernel reads the gradients where backward left them from this many
    #: numbers on; below, numba's call with a tuple of gradients costs more than copying
    #: them into the joined gradient buffer and one compiled pass over it (64 moons
    #: members' Adam step: 35 µs with the tuple, 20 µs gathered, 25 µs NumPy's passes)
    COMPILED_FROM = 1 << 16

    #: numbers (steps × members) of t-dependent coefficients (Adam's) computed at once,
    #: while lr and the hyperparameters stay: per step the update then only copies a row
    #: (a table of at least TABLE_STEPS steps: computing one costs what ~30 steps' copies do)
    TABLE_SIZE = 1 << 15
    TABLE_STEPS = 32

    def _step_coefficients(self) -> None:
        """Refresh the coefficients that depend on ``t`` (for the ``t`` just counted): a row
        of the table of the next steps' (6, P) coefficients, every group's at once."""
        if not self._by_t:
            return
        if not self._t_uniform:  # members at different steps: no table
            for group in self._by_t:
                self._coef[:, group.sel] = self._coefficients(group, self.t[group.idx])
            return
        row = self._t0 - self._table_from
        if self._table is None or not 0 <= row < len(self._table):
            n = max(self.TABLE_STEPS, self.TABLE_SIZE // max(self.P, 1))
            steps = np.arange(self._t0, self._t0 + n, dtype=np.int64)[:, None]
            if len(self._by_t) == 1 and isinstance(self._by_t[0].sel, slice):
                table = self._coefficients(self._by_t[0], steps)  # every member's
            else:
                table = np.empty((6, n, self.P))
                table[...] = self._coef[:, None, :]  # the groups that do not depend on t
                for group in self._by_t:
                    table[:, :, group.sel] = self._coefficients(group, steps)
            # (6, n, P) -> (n, 6, P); a row is rounded to the dtype when copied (as _prepare)
            self._table, self._table_from, row = table.transpose(1, 0, 2), self._t0, 0
        self._coef[...] = self._table[row]

    # -- the loop -----------------------------------------------------------------------
    def zero_grad(self) -> None:
        """Forget the gradients (``param.grad = None``), since ``backward`` accumulates."""
        for p in self.params:
            p.grad = None

    def _gradients(self) -> list[np.ndarray]:
        """Every parameter's gradient as a (P, n) array (a view where possible)."""
        grads = []
        for i, (p, shape, lo, hi) in enumerate(
            zip(self.params, self._param_views, self._offsets, self._offsets[1:])
        ):
            grad = p.grad
            if grad is None:
                raise ValueError(
                    f"params[{i}] has no gradient: the members' parameters are updated "
                    "together (run backward first)"
                )
            if grad.shape != shape.shape:
                raise ValueError(
                    f"params[{i}].grad has shape {grad.shape}, the parameter has {shape.shape}"
                )
            grad = np.ascontiguousarray(grad, dtype=self.dtype)
            grads.append(grad.reshape(self.P, hi - lo))
        return grads

    def _gather(self) -> np.ndarray:
        """Every parameter's gradient copied into the joined (P, R) :attr:`grad_buffer` (one
        copy per parameter, cast to the buffer's dtype)."""
        if self.grad_buffer is None:
            self.grad_buffer = np.empty_like(self.buffer)
            self._grad_views = self._views(self.grad_buffer)
        for p, view in zip(self.params, self._grad_views):
            grad = p.grad
            if grad is None or grad.shape != view.shape:
                self._gradients()  # raises, naming the parameter
            view[...] = grad
        return self.grad_buffer

    def step(self) -> None:
        """One update of every member (every parameter must have its gradient)."""
        self._adopt()
        compiled = self.kernels == "numba"
        large = self.buffer.size > self.BLOCK
        if compiled and self.buffer.size >= self.COMPILED_FROM or large:
            grads = self._gradients()  # read in place
        else:
            gathered = self._gather()
        self.t += 1
        if self._t_uniform:
            self._t0 += 1
        self._step_coefficients()
        if self.P == 0:
            return
        if compiled and self.buffer.size >= self.COMPILED_FROM:
            _kernels.member_update(
                self.buffer, tuple(grads), self.v, self.s, self._coef, self._offsets_array
            )
        elif compiled and not large:
            # small: one compiled pass over the gathered gradients (a call with five flat
            # arrays costs less than with a tuple of one gradient per parameter)
            _kernels.flat_update(self.buffer, gathered, self.v, self.s, self._coef)
        elif not large:
            # small: each pass once over the whole buffer with the (P, 1) coefficient columns
            self._update(self.buffer, gathered, self.v, self.s, self._columns)
        else:
            # large: a contiguous block of one member's numbers after another (each block
            # through all the passes while it is in cache; whole-buffer passes would stream
            # from memory), the member's coefficients as scalars, gradients read in place
            coefs = self._coef.T.tolist()  # exact: a float32 is a float64 is a Python float
            for g, lo, hi in zip(grads, self._offsets, self._offsets[1:]):
                for k, coef in enumerate(coefs):
                    for a in range(lo, hi, self.BLOCK):
                        b = min(a + self.BLOCK, hi)
                        s = None if self.s is None else self.s[k, a:b]
                        gk = g[k, a - lo : b - lo]
                        self._update(self.buffer[k, a:b], gk, self.v[k, a:b], s, coef)

    def _update(self, w, g, v, s, coef) -> None:
        """The unified rule on one block, in the standalone optimizers' order of operations
        (multiplying by c1 = 1 or c2 = 1 is exact, so those passes are skipped);
        ``coef``: b1, c1, b2, c2, step, e, broadcastable against the block."""
        b1, c1, b2, c2, step, e = coef
        if self._scratch is None or self._scratch.size < w.size:
            self._scratch = np.empty(max(w.size, min(self.BLOCK, self.buffer.size)), self.dtype)
        scratch = self._scratch[: w.size].reshape(w.shape)
        np.multiply(v, b1, out=v)
        if self._all_c1_one:
            np.add(v, g, out=v)
        else:
            np.multiply(g, c1, out=scratch)
            np.add(v, scratch, out=v)
        if s is not None:
            np.multiply(s, b2, out=s)
            if self._all_c2_one:
                np.multiply(g, g, out=scratch)
            else:
                np.multiply(g, c2, out=scratch)
                np.multiply(scratch, g, out=scratch)
            np.add(s, scratch, out=s)
            np.sqrt(s, out=scratch)
            np.add(scratch, e, out=scratch)
            np.divide(v, scratch, out=scratch)
            np.multiply(scratch, step, out=scratch)
        else:
            np.multiply(v, step, out=scratch)
        np.subtract(w, scratch, out=w)

    # -- membership -----------------------------------------------------------------------
    def _positions(self, positions) -> np.ndarray:
        pos = np.asarray(positions)
        if pos.ndim != 1 or (pos.size and pos.dtype.kind not in "iu"):
            raise ValueError(f"positions must be a list of member positions, got {positions!r}")
        bad = [int(x) for x in pos.tolist() if not 0 <= x < self.P]
        if bad:
            raise ValueError(f"positions must be in [0, {self.P}), got {bad[0]}")
        return pos.astype(np.intp)

    def take(self, positions) -> None:
        """Keep only the members at ``positions``, in that order (weights, state, settings).

        The parameters' ``.data`` are re-bound to views of the new, smaller buffer. If the
        stacked model dropped the members itself (``honed.nn.members.take``), do that first.
        """
        pos = self._positions(positions)
        self._bind(self.buffer[pos])
        self.v = self.v[pos]
        self.s = None if self.s is None else self.s[pos]
        self.t = self.t[pos]
        self._lr = self._lr[pos]
        self.settings = [dict(self.settings[k]) for k in pos.tolist()]
        self._prepare()

    def copy_member(self, dst: int, src: int) -> None:
        """Member ``dst`` takes ``src``'s weights, optimizer state (``v``, ``s``, ``t``) and
        settings (PBT's exploit)."""
        dst, src = self._member(dst, "dst"), self._member(src, "src")
        self._adopt()
        for array in (self.buffer, self.v, self.s):
            if array is not None:
                array[dst] = array[src]
        self.t[dst] = self.t[src]
        self.settings[dst] = dict(self.settings[src])
        self._lr[dst] = self._lr[src]
        self._prepare()

    # -- saving and loading -------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything to resume bit-identically (the weights belong to the model)::

            {"settings": [{"optimizer": "adam", "lr": ..., ...}, ...],
             "t": (P,) int64, "v": (P, R), "s": (P, R) or None, "shapes": [(...), ...]}

        Arrays are copies.
        """
        return {
            "settings": [dict(s) for s in self.settings],
            "t": self.t.copy(),
            "v": self.v.copy(),
            "s": None if self.s is None else self.s.copy(),
            "shapes": [tuple(s) for s in self._shapes],
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` saved (same parameters, same number of members)."""
        shapes = [tuple(s) for s in state["shapes"]]
        if shapes != [tuple(s) for s in self._shapes]:
            raise ValueError(
                f"state_dict is for parameters of member shapes {shapes}, these have "
                f"{[tuple(s) for s in self._shapes]}"
            )
        settings = list(state["settings"])
        if len(settings) != self.P:
            raise ValueError(f"state_dict has {len(settings)} members, this optimizer {self.P}")
        checked = [self._checked(k, s) for k, s in enumerate(settings)]
        arrays = {}
        for key in ("v", "s"):
            value = state[key]
            if value is not None:
                value = np.asarray(value)
                if value.shape != self.buffer.shape:
                    raise ValueError(
                        f"state_dict[{key!r}] has shape {value.shape}, the buffer {self.buffer.shape}"
                    )
                value = np.array(value, dtype=self.dtype, copy=True)
            arrays[key] = value
        t = np.array(state["t"], dtype=np.int64).reshape(-1)
        if t.shape != (self.P,):
            raise ValueError(f"state_dict['t'] has shape {t.shape}, expected ({self.P},)")
        self.settings = checked
        self._lr = np.array([s["lr"] for s in checked], dtype=np.float64)
        self.t = t
        self.v, self.s = arrays["v"], arrays["s"]
        self._prepare()

    def __repr__(self) -> str:
        names = sorted({s["optimizer"] for s in self.settings})
        return (
            f"MemberOptimizer(<{len(self.params)} params>, P={self.P}, "
            f"optimizers={names}, kernels={self.kernels!r})"
        )
