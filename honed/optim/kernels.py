"""Optional compiled kernel (numba) for the per-member optimizers' update: one pass.

:class:`honed.optim.MemberOptimizer` updates every trainable number of a population with
the unified rule (member k's coefficients, ``g`` its gradient)::

    v := b1_k · v + c1_k · g
    s := b2_k · s + (c2_k · g) · g
    W := W − step_k · v / (√s + e_k)

NumPy needs ten or so passes over the buffers for it (one per ufunc, each reading and writing
whole arrays); this kernel reads ``W, g, v, s`` once and writes ``W, v, s`` once, doing the
same operations in the same order on the same dtype. Compiled without ``fastmath`` (LLVM
neither contracts ``a·b + c`` into a fused multiply-add nor reorders), so its results are the
NumPy path's to the last bit; the tests compare the two on every optimizer kind.

NumPy is the reference and stays the default when numba is not installed
(``pip install 'honed[accel]'`` adds it). ``HONED_KERNELS=numpy`` forces the NumPy path,
``HONED_KERNELS=numba`` requires numba (an error when it is absent).

Layout: the joined buffers are 1-D (a ``(P, R)`` array read flat): entry ``i`` belongs to
member ``i // R`` (``MemberOptimizer``: ``n_wide = 0``). The stacked engine of
:mod:`honed.population` also puts a wide first weight ``(n_in, P·n0)`` in front (entry ``i``
of it belongs to member ``(i // n0) mod P``). The kernel walks both regions in runs of one
member, so the member's six coefficients are loaded once per run and the inner loop is a
plain contiguous loop that LLVM vectorises.
"""

from __future__ import annotations

import os

import numpy as np

try:  # the optional extra
    import numba
except ImportError:  # pragma: no cover - exercised where numba is absent
    numba = None

#: kernels a user can ask for (``HONED_KERNELS`` or ``MemberOptimizer(kernels=...)``)
KERNELS = ("auto", "numpy", "numba")


def available() -> bool:
    """Whether the compiled kernel can run here (numba importable)."""
    return numba is not None


def resolve(kernels: str | None = None) -> str:
    """``"numpy"`` or ``"numba"``: the kernel asked for (argument, else ``HONED_KERNELS``,
    else ``"auto"``: numba when installed)."""
    asked = kernels if kernels is not None else os.environ.get("HONED_KERNELS", "auto")
    asked = str(asked).strip().lower()
    if asked not in KERNELS:
        source = "kernels" if kernels is not None else "HONED_KERNELS"
        raise ValueError(f"{source} must be one of {', '.join(KERNELS)}, got {asked!r}")
    if asked == "numba" and numba is None:
        source = "kernels" if kernels is not None else "HONED_KERNELS"
        raise ValueError(
            f"{source} 'numba' needs numba, which is not installed (pip install 'honed[accel]')"
        )
    if asked == "auto":
        return "numba" if numba is not None else "numpy"
    return asked


def _run_with_s(w, g, v, s, b1, c1, b2, c2, step, e):  # pragma: no cover - compiled
    """One member's run (1-D views): the update with a second moment (RMSprop, Adam)."""
    for j in range(w.shape[0]):
        gj = g[j]
        vj = v[j] * b1 + gj * c1
        sj = s[j] * b2 + (gj * c2) * gj
        v[j] = vj
        s[j] = sj
        w[j] = w[j] - (vj / (np.sqrt(sj) + e)) * step


def _run_without_s(w, g, v, b1, c1, step):  # pragma: no cover - compiled
    """One member's run (1-D views): the update without one (GD, Momentum)."""
    for j in range(w.shape[0]):
        vj = v[j] * b1 + g[j] * c1
        v[j] = vj
        w[j] = w[j] - vj * step


def _update_region(w, g, v, s, coef, lo, hi, seg, P, has_s):  # pragma: no cover - compiled
    """The general update on entries ``lo … hi − 1``, in runs of ``seg`` entries; run r
    belongs to member r mod P.

    ``coef`` is (6, P) in the buffers' dtype: b1, c1, b2, c2, step, e. Same operations, same
    order as the NumPy path (:meth:`honed.optim.MemberOptimizer.step`) (``g·1`` and ``(g·1)·g`` are exact, so
    the NumPy path's shortcuts for c1 = 1 or c2 = 1 give the same numbers).
    """
    for i in range(lo, hi, seg):
        k = ((i - lo) // seg) % P
        stop = min(hi, i + seg)
        # a run as 1-D views indexed from 0: LLVM then vectorises the loop
        if has_s:
            run_with_s(
                w[i:stop], g[i:stop], v[i:stop], s[i:stop],
                coef[0, k], coef[1, k], coef[2, k], coef[3, k], coef[4, k], coef[5, k],
            )  # fmt: skip
        else:
            run_without_s(w[i:stop], g[i:stop], v[i:stop], coef[0, k], coef[1, k], coef[4, k])


def _update_all(w, g, v, s, coef, n_wide, n0, R, P, has_s):  # pragma: no cover - compiled
    """Both regions of the joined buffer in one call per step: the wide first weight (runs
    of n0, member by member along each row) and the (P, R) rest (one run per member).

    One thread: the pass is memory bound (35–40 GB/s on one core of the 2-core machine);
    a threaded build gained 13 % on the update alone and nothing measurable in training,
    where OpenBLAS's threads are still spinning after the GEMMs."""
    update_region(w, g, v, s, coef, 0, n_wide, n0, P, has_s)
    update_region(w, g, v, s, coef, n_wide, w.shape[0], R, P, has_s)


def _update_members(w, grads, v, s, coef, offsets, has_s):  # pragma: no cover - compiled
    """:class:`~honed.optim.MemberOptimizer`'s update in one call, reading every parameter's
    gradient where backward left it (no gather into a joined gradient buffer).

    ``w, v, s``: the (P, R) joined buffers; ``grads``: a tuple of (P, n_j) arrays, parameter
    j's gradient, whose numbers sit in columns ``offsets[j] … offsets[j] + n_j − 1``;
    ``coef``: (6, P). One run per (parameter, member): a contiguous 1-D loop.
    """
    P = w.shape[0]
    for j in range(len(grads)):
        g = grads[j]
        lo = offsets[j]
        hi = lo + g.shape[1]
        for k in range(P):
            if has_s:
                run_with_s(
                    w[k, lo:hi], g[k], v[k, lo:hi], s[k, lo:hi],
                    coef[0, k], coef[1, k], coef[2, k], coef[3, k], coef[4, k], coef[5, k],
                )  # fmt: skip
            else:
                run_without_s(w[k, lo:hi], g[k], v[k, lo:hi], coef[0, k], coef[1, k], coef[4, k])


def _compile(cache: bool) -> None:
    global run_with_s, run_without_s, update_region, _kernel, _members_kernel
    # error_model="numpy": a float division by zero gives inf as NumPy does (numba's default
    # checks every division, which keeps LLVM from vectorising the loop); no fastmath, so
    # the arithmetic is IEEE, in the written order.
    options = {"cache": cache, "nogil": True, "error_model": "numpy"}
    run_with_s = numba.njit(**options)(_run_with_s)
    run_without_s = numba.njit(**options)(_run_without_s)
    update_region = numba.njit(**options)(_update_region)
    _kernel = numba.njit(**options)(_update_all)
    _members_kernel = numba.njit(**options)(_update_members)


if numba is not None:
    try:  # cached: compiled once per machine, in __pycache__ or numba's user cache
        _compile(cache=True)
    except RuntimeError:  # no writable cache location: compile in each process instead
        _compile(cache=False)


def fused_update(w, g, v, s, coef, n_wide: int, n0: int, R: int, P: int) -> None:
    """One update of every member over the joined 1-D buffers (in place).

    ``w, g, v``: parameters, gradients, first moments; ``s``: second moments or None (no
    member needs them); ``coef``: (6, P) b1, c1, b2, c2, step, e; ``n_wide``: entries of the
    wide first weight (``n_in · P · n0``), then ``P · R`` entries of the rest.
    """
    has_s = s is not None
    if s is None:
        s = v  # not read (has_s False); one signature for both cases
    _kernel(w, g, v, s, coef, n_wide, max(n0, 1), max(R, 1), P, has_s)


def flat_update(w, g, v, s, coef) -> None:
    """One update of every member over C-contiguous (P, R) buffers ``w, g, v, s`` (in place;
    ``s`` None when no member needs it): the gradients already joined, one run per member."""
    P, R = w.shape
    fused_update(
        w.reshape(-1),
        g.reshape(-1),
        v.reshape(-1),
        None if s is None else s.reshape(-1),
        coef,
        0,
        1,
        R,
        P,
    )


def member_update(w, grads: tuple, v, s, coef, offsets) -> None:
    """One update of every member over the (P, R) buffers ``w, v, s`` (in place; ``s`` None
    when no member needs it), with the gradients ``grads`` (a tuple of C-contiguous (P, n_j)
    arrays in the buffers' dtype) read in place; ``offsets`` (int64) their first columns."""
    has_s = s is not None
    _members_kernel(w, grads, v, v if s is None else s, coef, offsets, has_s)


__all__ = ["KERNELS", "available", "flat_update", "fused_update", "member_update", "resolve"]
