"""One update rule for a population whose members mix GD, Momentum, RMSprop and Adam.

Design: a single general update with per-member coefficient vectors, rather than one
sub-group per optimizer kind (sub-groups would need the stacked arrays split and re-joined
at every step). For member k at its step t_k (``g`` its gradient)::

    v := b1_k · v + c1_k · g
    s := b2_k · s + (c2_k · g) · g
    W := W − step_k · v / (√s + e_k)

with, per optimizer kind (the formulas of :mod:`honed.optim`, in honed's own order of
operations, so a member's update is the standalone optimizer's to the last bit):

==========  ======  ======  ======  ======  ==================================  ==========
kind        b1      c1      b2      c2      step                                e
==========  ======  ======  ======  ======  ==================================  ==========
GD          0       1       0       0       α                                   1
Momentum    β       1 − β   0       0       α                                   1
RMSprop     0       1       β₂      1 − β₂  α                                   ε
Adam        β₁      1       β₂      1       α(1−β₁)/((1−β₁ᵗ)·a), a=√((1−β₂)/(1−β₂ᵗ))  ε/a
==========  ======  ======  ======  ======  ==================================  ==========

Adam keeps ``v = v_dW/(1 − β₁)`` and ``s = s_dW/(1 − β₂)`` as :class:`honed.optim.Adam`
does (its docstring derives the scalars). For GD and Momentum ``s`` stays 0 and the divisor
is exactly 1. When no member needs ``s`` (no RMSprop or Adam) its passes are skipped; when
every ``c1`` (``c2``) is 1 the multiplication by it is skipped.

Two ways to run it, same arithmetic: a small population (at most ``GATHER_LIMIT`` numbers)
updates its one joined buffer with per-entry coefficients (``coef[member_of_entry]``), 10–12
NumPy calls per step whatever the depth; a large one goes block by block (~64k numbers),
each block through all the passes while it is in cache. With the optional numba extra
(:mod:`honed.population.kernels`) the whole update is one compiled pass over the joined
buffers instead, with the same operations in the same order (bit for bit the same numbers).
"""

from __future__ import annotations

import numpy as np

from honed.optim import GD, OPTIMIZERS, Adam, Momentum, RMSprop
from honed.optim import kernels as _kernels
from honed.population.stack import member_shape, wide

#: the optimizers whose update this engine has, and the code its kernels know each by
_KERNEL_CODE = {GD: 0, Momentum: 1, RMSprop: 2, Adam: 3}


def kind_codes(members) -> np.ndarray:
    """(P,) the kernels' code of each member's optimizer.

    Raises:
        ValueError: an optimizer that declares ``population = True`` has no update here.
    """
    codes = []
    for m in members:
        code = _KERNEL_CODE.get(OPTIMIZERS.get(m.optimizer))
        if code is None:
            raise ValueError(
                f"optimizer {m.optimizer!r} declares population = True, but honed.population "
                f"has no update for it (it has {', '.join(c.__name__ for c in _KERNEL_CODE)})"
            )
        codes.append(code)
    return np.array(codes, dtype=np.int8)


class PopulationOptimizer:
    """Per-member optimizer state (``v``, ``s``, ``t``) over a :class:`StackedMLP`'s arrays.

    Attributes:
        kind: (P,) codes 0 GD, 1 Momentum, 2 RMSprop, 3 Adam.
        lr, beta, beta1, beta2, eps: (P,) float64 hyperparameters (``lr`` is the current
            epoch's rate, set by the trainer).
        t: (P,) updates each member has had.
        kernels: ``"numpy"`` (the reference) or ``"numba"`` (one compiled pass); the
            argument ``kernels`` (``"auto"``, the default: numba when installed) or the
            environment's ``HONED_KERNELS`` chooses.
    """

    def __init__(self, members, params, kernels: str | None = None):
        self.kernels = _kernels.resolve(kernels)
        self.kind = kind_codes(members)
        self.lr = np.array([m.lr_at(0) for m in members], dtype=np.float64)
        self.beta = np.array([m.beta for m in members], dtype=np.float64)
        self.beta1 = np.array([m.beta1 for m in members], dtype=np.float64)
        self.beta2 = np.array([m.beta2 for m in members], dtype=np.float64)
        self.eps = np.array([m.eps for m in members], dtype=np.float64)
        self.t = np.zeros(len(members), dtype=np.int64)
        self.v_buf, self.v = self._zeros(params)
        self.s_buf, self.s = self._zeros(params) if self.needs_second_moment else (None, None)

    @staticmethod
    def _zeros(params):
        """A zero 1-D state buffer laid out as the parameters' buffer, and its views."""
        return PopulationOptimizer._joined([np.zeros_like(a) for _, a in params])

    @staticmethod
    def _joined(parts):
        buf = np.concatenate([p.reshape(-1) for p in parts])
        views, start = [], 0
        for p in parts:
            views.append(buf[start : start + p.size].reshape(p.shape))
            start += p.size
        return buf, views

    @property
    def P(self) -> int:
        return len(self.kind)

    @property
    def needs_second_moment(self) -> bool:
        return bool((self.kind >= 2).any())

    _VECTORS = ("kind", "lr", "beta", "beta1", "beta2", "eps", "t")

    def take(self, positions, params) -> None:
        """Keep the members at ``positions`` (slices the state as the parameters were)."""
        pos = np.asarray(positions, dtype=np.intp)
        P = self.P
        for name in self._VECTORS:
            setattr(self, name, getattr(self, name)[pos].copy())
        for name in ("v", "s"):
            store = getattr(self, name)
            if store is None:
                continue
            parts = []
            for (kind, _), a in zip(params, store):
                if kind == "wide":
                    parts.append(wide(a, P)[:, pos, :].reshape(a.shape[0], -1))
                else:
                    parts.append(a[pos])
            buf, views = self._joined(parts)
            setattr(self, name + "_buf", buf)
            setattr(self, name, views)

    def copy_member(self, dst: int, src: int, params) -> None:
        """Member ``dst`` takes ``src``'s moments and step count (PBT's exploit)."""
        self.t[dst] = self.t[src]
        for store in (self.v, self.s):
            if store is None:
                continue
            for j, (kind, _) in enumerate(params):
                a = store[j]
                if kind == "wide":
                    v = wide(a, self.P)
                    v[:, dst, :] = v[:, src, :]
                else:
                    a[dst] = a[src]

    #: below this many numbers in all, the update runs over one 1-D buffer with per-entry
    #: coefficients gathered by member (12 passes in all instead of 12 per buffer: tiny
    #: networks are all per-call overhead); above it, per-member vectors broadcast over each
    #: buffer (no N-sized coefficient arrays).
    GATHER_LIMIT = 1 << 18

    #: the compiled kernel (``kernels="numba"``) runs from this many numbers on; below, the
    #: update is a few µs of a step that is all per-call overhead, and NumPy's one-buffer
    #: path costs no more than numba's call (benchmarks/population.py, moons)
    COMPILED_FROM = GATHER_LIMIT

    def prepare(self, params, member_index: np.ndarray | None = None) -> None:
        """Precompute the coefficients that do not change from step to step (call after
        any change of the members' kinds, β's, ε, learning rates or of the membership).
        ``member_index`` (the member of every entry of the joined buffer) enables the
        one-buffer update for small populations."""
        kind = self.kind
        adam, mom, rms = kind == 3, kind == 1, kind == 2
        self._adam = adam
        self._any_adam = bool(adam.any())
        b1 = np.where(adam, self.beta1, np.where(mom, self.beta, 0.0))
        c1 = np.where(mom, 1.0 - self.beta, 1.0)
        b2 = np.where(adam | rms, self.beta2, 0.0)
        c2 = np.where(adam, 1.0, np.where(rms, 1.0 - self.beta2, 0.0))
        self._all_c1_one = bool((c1 == 1.0).all())
        self._all_c2_one = bool((c2 == 1.0).all())
        self._shapes = [
            (member_shape(kind, w.ndim if kind != "wide" else 3, self.P), w.dtype)
            for kind, w in params
        ]
        self._static = [
            [x.reshape(shape).astype(dtype) for x in (b1, c1, b2, c2)]
            for shape, dtype in self._shapes
        ]
        self._step_fixed = np.where(adam, 0.0, self.lr)
        self._e_fixed = np.where(rms, self.eps, 1.0)
        n = sum(w.size for _, w in params)
        self._compiled = self.kernels == "numba" and n >= self.COMPILED_FROM
        if self._compiled:
            # (6, P) per-member coefficients; step and e (rows 4, 5) change per step for Adam
            dtype = params[0][1].dtype
            self._coef = np.stack([b1, c1, b2, c2, self._step_fixed, self._e_fixed]).astype(dtype)
            W0, flat = params[0][1], params[1][1]
            P = max(self.P, 1)
            self._kernel_layout = (
                W0.size,
                W0.shape[1] // P,
                flat.shape[1] if flat.ndim == 2 else 0,
            )
        self._index = member_index if member_index is not None and n <= self.GATHER_LIMIT else None
        if self._index is not None:
            dtype = params[0][1].dtype
            self._static_1d = [x.astype(dtype)[self._index] for x in (b1, c1, b2, c2)]
            self._dynamic_1d = [
                x.astype(dtype)[self._index] for x in (self._step_fixed, self._e_fixed)
            ]
        if not self._any_adam:
            self._dynamic = [
                [x.reshape(shape).astype(dtype) for x in (self._step_fixed, self._e_fixed)]
                for shape, dtype in self._shapes
            ]

    def coefficients(self):
        """(step, e) per member for the step about to be taken (``t`` already counted)."""
        adam = self._adam
        t = self.t.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.sqrt((1.0 - self.beta2) / (1.0 - self.beta2**t))
            step = np.where(
                adam, self.lr * (1.0 - self.beta1) / ((1.0 - self.beta1**t) * a), self._step_fixed
            )
            e = np.where(adam, self.eps / a, self._e_fixed)
        return step, e

    def step(self, params, grads, buffer=None, grad_buffer=None) -> None:
        """One update of every member (in place). ``buffer``/``grad_buffer``: the joined 1-D
        parameter and gradient buffers (enable the one-buffer update)."""
        self.t += 1
        if self._compiled and buffer is not None:
            if grad_buffer is None or grads[0].base is not grad_buffer:
                grad_buffer = np.concatenate([g.reshape(-1) for g in grads])
            if self._any_adam:
                step, e = self.coefficients()
                self._coef[4] = step
                self._coef[5] = e
            n_wide, n0, R = self._kernel_layout
            _kernels.fused_update(
                buffer, grad_buffer, self.v_buf, self.s_buf, self._coef, n_wide, n0, R, self.P
            )
            return
        if self._index is not None and buffer is not None:
            if grad_buffer is None or grads[0].base is not grad_buffer:
                grad_buffer = np.concatenate([g.reshape(-1) for g in grads])
            self._step_1d(buffer, grad_buffer)
            return
        # Large populations: the buffers are updated block by block (~64k numbers: rows of
        # the wide first layer, rows of members of the rest), every block through all the
        # passes while it is in cache; whole-buffer passes would each stream from memory.
        P = self.P
        if self._any_adam:
            step, e = self.coefficients()
            dynamic = [
                [x.reshape(shape).astype(dtype) for x in (step, e)] for shape, dtype in self._shapes
            ]
        else:
            dynamic = self._dynamic
        for j, ((kind, w), g) in enumerate(zip(params, grads)):
            coef = self._static[j] + dynamic[j]
            v = self.v[j]
            s = self.s[j] if self.s is not None else None
            if kind == "wide":
                # every row of (n_in, P·n0) has the same member pattern: coefficients as one
                # contiguous row (P·n0,), broadcast down the rows (a fast inner loop)
                n0 = w.shape[1] // max(P, 1)
                coef = [np.repeat(c.reshape(-1), n0)[None, :] for c in coef]
                rows = max(1, self.BLOCK // max(w.shape[1], 1))
                for r in range(0, w.shape[0], rows):
                    sl = slice(r, r + rows)
                    self._update(w[sl], g[sl], v[sl], None if s is None else s[sl], coef)
            else:
                rows = max(1, self.BLOCK // max(w[0].size, 1))
                for r in range(0, P, rows):
                    sl = slice(r, r + rows)
                    # one member per block: its coefficients as Python scalars (cast to the
                    # array's dtype by NumPy, as honed.optim's are)
                    block = [c[r, 0].item() for c in coef] if rows == 1 else [c[sl] for c in coef]
                    self._update(w[sl], g[sl], v[sl], None if s is None else s[sl], block)

    #: numbers per block of the blocked update (fits in a core's L2 with its 4 companions)
    BLOCK = 1 << 16

    def _update(self, w, g, v, s, coef) -> None:
        """The general update on one block; ``coef`` = (b1, c1, b2, c2, step, e) broadcastable."""
        vb1, vc1, vb2, vc2, vstep, ve = coef
        scratch = np.empty(w.shape, w.dtype)
        np.multiply(v, vb1, out=v)
        if self._all_c1_one:
            np.add(v, g, out=v)
        else:
            np.multiply(g, vc1, out=scratch)
            np.add(v, scratch, out=v)
        if s is not None:
            np.multiply(s, vb2, out=s)
            if self._all_c2_one:  # Adam only: (1·g)·g is g·g exactly
                np.multiply(g, g, out=scratch)
            else:
                np.multiply(g, vc2, out=scratch)
                np.multiply(scratch, g, out=scratch)
            np.add(s, scratch, out=s)
            np.sqrt(s, out=scratch)
            np.add(scratch, ve, out=scratch)
            np.divide(v, scratch, out=scratch)
            np.multiply(scratch, vstep, out=scratch)
        else:
            np.multiply(v, vstep, out=scratch)
        np.subtract(w, scratch, out=w)

    def _step_1d(self, w: np.ndarray, g: np.ndarray) -> None:
        vb1, vc1, vb2, vc2 = self._static_1d
        if self._any_adam:
            step, e = self.coefficients()
            vstep = step.astype(w.dtype)[self._index]
            ve = e.astype(w.dtype)[self._index]
        else:
            vstep, ve = self._dynamic_1d
        v, s = self.v_buf, self.s_buf
        scratch = np.empty_like(w)
        np.multiply(v, vb1, out=v)
        if self._all_c1_one:
            np.add(v, g, out=v)
        else:
            np.multiply(g, vc1, out=scratch)
            np.add(v, scratch, out=v)
        if s is not None:
            np.multiply(s, vb2, out=s)
            np.multiply(g, vc2, out=scratch)
            np.multiply(scratch, g, out=scratch)
            np.add(s, scratch, out=s)
            np.sqrt(s, out=scratch)
            np.add(scratch, ve, out=scratch)
            np.divide(v, scratch, out=scratch)
            np.multiply(scratch, vstep, out=scratch)
        else:
            np.multiply(v, vstep, out=scratch)
        np.subtract(w, scratch, out=w)


__all__ = ["PopulationOptimizer"]
