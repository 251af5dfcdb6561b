"""Gradient checking: compare backprop's gradient with two-sided finite differences.

For θ = all parameters flattened into one vector (the notes):

    dθ_approx[i] = (J(θ + ε·e_i) − J(θ − ε·e_i)) / (2ε),     ε = 1e-7
    error = ‖dθ_approx − dθ‖₂ / (‖dθ_approx‖₂ + ‖dθ‖₂)

Verdicts (the notes): error < 1e-7 "correct"; < 1e-5 "check" (probably fine, look again);
< 1e-3 "suspicious"; ≥ 1e-3 "likely bug". The check runs in float64 — in float32 the
rounding error of J alone is larger than the differences being measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from honed.autograd.function import no_grad
from honed.autograd.tensor import Tensor

THRESHOLDS = ((1e-7, "correct"), (1e-5, "check"), (1e-3, "suspicious"))


def verdict(error: float) -> str:
    """The notes' reading of a relative error."""
    if not np.isfinite(error):
        return "likely bug"
    for limit, word in THRESHOLDS:
        if error < limit:
            return word
    return "likely bug"


def relative_error(approx: np.ndarray, exact: np.ndarray) -> float:
    """‖approx − exact‖₂ / (‖approx‖₂ + ‖exact‖₂), 0 when both are zero."""
    denominator = np.linalg.norm(approx) + np.linalg.norm(exact)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(approx - exact) / denominator)


@dataclass
class TensorCheck:
    """The check of one parameter tensor."""

    name: str
    shape: tuple[int, ...]
    error: float
    max_abs_diff: float

    @property
    def verdict(self) -> str:
        return verdict(self.error)


@dataclass
class GradCheckResult:
    """Overall relative error over θ, its verdict, and a per-tensor breakdown."""

    error: float
    eps: float
    tensors: list[TensorCheck] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return verdict(self.error)

    @property
    def passed(self) -> bool:
        return self.error < 1e-7

    @property
    def worst(self) -> TensorCheck:
        """The tensor with the largest relative error: where to look for a bug."""
        return max(self.tensors, key=lambda t: np.nan_to_num(t.error, nan=np.inf))

    def __repr__(self) -> str:
        width = max([len(t.name) for t in self.tensors] + [9])
        lines = [
            f"gradient check (float64, two-sided, eps={self.eps:g})",
            f"{'parameter':<{width}}  {'shape':<14} {'rel. error':>11}  {'max |diff|':>11}  verdict",
        ]
        for t in self.tensors:
            lines.append(
                f"{t.name:<{width}}  {str(t.shape):<14} {t.error:>11.3e}  "
                f"{t.max_abs_diff:>11.3e}  {t.verdict}"
            )
        lines.append(
            f"{'θ (all)':<{width}}  {'':<14} {self.error:>11.3e}  {'':>11}  {self.verdict}"
        )
        if self.verdict != "correct":
            lines.append(f"largest error in: {self.worst.name}")
        return "\n".join(lines)

    __str__ = __repr__


def _named(params) -> list[tuple[str, Tensor]]:
    if hasattr(params, "named_parameters"):
        return list(params.named_parameters())
    if isinstance(params, Mapping):
        return list(params.items())
    if isinstance(params, Tensor):
        params = [params]
    return [(t.name or f"param{i}", t) for i, t in enumerate(params)]


def gradcheck(
    cost: Callable[[], Tensor],
    params: Iterable[Tensor] | Mapping[str, Tensor],
    eps: float = 1e-7,
    max_per_tensor: int | None = None,
    seed: int = 0,
    backward: Callable[[Tensor], None] | None = None,
) -> GradCheckResult:
    """Check backprop's gradient of ``cost()`` with respect to ``params``.

    Args:
        cost: a function of no arguments that runs the forward pass and returns a scalar
            Tensor. Feed it float64 data; switch dropout off (``model.eval()`` on dropout
            layers, or keep_prob = 1) since a random mask changes J between evaluations.
        params: tensors, a name → tensor mapping, or a module with ``named_parameters()``.
            Each is converted in place to a contiguous float64 copy for the check and
            restored afterwards.
        eps: the finite-difference step ε.
        max_per_tensor: check at most this many randomly chosen entries of each tensor
            (all when None). Large models need it: every entry costs two forward passes.
        seed: chooses the sampled entries.
        backward: computes the analytic gradient from ``J = cost()`` into each ``.grad``
            (default ``J.backward()``); a trainer passes its own, which adds the gradient of
            a penalty applied outside the graph, so the check covers what training does.

    Returns:
        A :class:`GradCheckResult`; ``print`` it for the per-tensor table.
    """
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    if max_per_tensor is not None and max_per_tensor < 1:
        raise ValueError(f"max_per_tensor must be >= 1, got {max_per_tensor}")
    rng = np.random.default_rng(seed)
    named = _named(params)
    if not named:
        raise ValueError("gradcheck needs at least one parameter")
    originals = [t.data for _, t in named]
    try:
        for _, t in named:
            # Contiguous float64 copies: perturbing a broadcast view would move many
            # entries at once.
            t.data = np.array(t.data, dtype=np.float64, order="C", copy=True)
            t.grad = None
            t.requires_grad = True
        J = cost()
        if J.size != 1:
            raise ValueError(f"cost must return a scalar tensor, got shape {J.shape}")
        if backward is None:
            J.backward()
        else:
            backward(J)
        exact = [np.zeros_like(t.data) if t.grad is None else t.grad.copy() for _, t in named]

        approx, chosen = [], []
        with no_grad():
            for _, t in named:
                flat = t.data.reshape(-1)  # a view on the contiguous copy
                entries = np.arange(flat.size)
                if max_per_tensor is not None and flat.size > max_per_tensor:
                    entries = np.sort(rng.choice(flat.size, size=max_per_tensor, replace=False))
                numeric = np.empty(entries.size)
                for k, i in enumerate(entries):
                    saved = flat[i]
                    flat[i] = saved + eps
                    plus = float(cost().data)
                    flat[i] = saved - eps
                    minus = float(cost().data)
                    flat[i] = saved
                    numeric[k] = (plus - minus) / (2 * eps)
                approx.append(numeric)
                chosen.append(entries)
    finally:
        for (_, t), data in zip(named, originals):
            t.data = data
            t.grad = None

    exact = [e.reshape(-1)[entries] for e, entries in zip(exact, chosen)]
    tensors = [
        TensorCheck(
            name=name,
            shape=tuple(original.shape),
            error=relative_error(a, e),
            max_abs_diff=float(np.max(np.abs(a - e))) if a.size else 0.0,
        )
        for (name, _), original, a, e in zip(named, originals, approx, exact)
    ]
    total = relative_error(
        np.concatenate([a.ravel() for a in approx]), np.concatenate([e.ravel() for e in exact])
    )
    return GradCheckResult(error=total, eps=eps, tensors=tensors)
