"""How much memory a population needs, checked before training starts.

Per member, with N trainable numbers and itemsize b (4 for float32, 8 for float64)::

    parameters   N·b · (1 stacked copy + 1 gradient + 1 population copy + 1 best-weights
                        copy when early stopping + 1 scratch of the update)
    optimizer    N·b · (1 first moment + 1 second moment when any member uses RMSprop/Adam)
    activations  B·b · Σ_hidden n_l · 10 + B·b·C · 4     (forward cache and backward
                                                          temporaries of one step)
    evaluation   E·b · (Σ_hidden n_l + C) · 3             (E = eval chunk rows)

All of it scales with P; the mini-batch itself (shared by all members) is small. The estimate
is compared with the memory the system says is available (``MemAvailable`` in /proc/meminfo,
else ``os.sysconf``), keeping a margin for everything else the process holds.
"""

from __future__ import annotations

import os

import numpy as np

#: share of the available memory a population may plan to use
HEADROOM = 0.8


def available_memory() -> int | None:
    """Bytes of memory available to new allocations, or None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def member_parameters(sizes) -> int:
    """Trainable numbers of one member (BN adds γ, β and drops the hidden biases, so the
    count with BN is the same as without: n per hidden layer either way)."""
    sizes = [int(s) for s in sizes]
    n = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    n += sum(sizes[1:-1]) + sizes[-1]
    return n


def estimate_memory(
    sizes,
    population: int,
    batch_size: int,
    dtype=np.float32,
    second_moment: bool = True,
    early_stopping: bool = False,
    batch_norm: bool = False,
    eval_batch_size: int = 4096,
    parameters: int | None = None,
) -> dict[str, int]:
    """Bytes needed: ``{"per_member", "shared", "total"}`` (see the module docstring).

    ``sizes`` are the layer widths (input first); ``parameters``, when given, is a member's
    count of trainable numbers (any model), else that of an MLP of ``sizes``."""
    sizes = [int(s) for s in sizes]
    b = np.dtype(dtype).itemsize
    n = member_parameters(sizes) if parameters is None else int(parameters)
    if batch_norm:
        n += sum(sizes[1:-1])  # the running averages travel with the parameters
    copies = 4 + (1 if early_stopping else 0) + 1 + (1 if second_moment else 0)
    hidden = sum(sizes[1:-1])
    C = sizes[-1]
    activations = batch_size * b * (10 * hidden + 4 * C)
    evaluation = eval_batch_size * b * (hidden + C) * 3
    per_member = n * b * copies + activations + evaluation
    shared = batch_size * sizes[0] * b * 2
    return {"per_member": per_member, "shared": shared, "total": population * per_member + shared}


def check_memory(estimate: dict[str, int], population: int, limit: int | None = None) -> None:
    """ValueError when ``estimate["total"]`` exceeds ``limit`` (default: HEADROOM of the
    available memory), naming P, the estimate and the largest P that would fit."""
    if limit is None:
        avail = available_memory()
        if avail is None:
            return
        limit = int(avail * HEADROOM)
    if estimate["total"] <= limit:
        return
    fits = max(0, (limit - estimate["shared"]) // max(estimate["per_member"], 1))
    mib = 1024 * 1024
    advice = (
        f"P <= {fits} would fit"
        if fits >= 1
        else "not even one member fits: use float32, a smaller batch_size or a smaller network"
    )
    raise ValueError(
        f"population of P={population} members needs about {estimate['total'] / mib:,.1f} MiB "
        f"({estimate['per_member'] / mib:,.2f} MiB per member) but only {limit / mib:,.1f} MiB "
        f"can be used; {advice}"
    )


__all__ = ["HEADROOM", "available_memory", "check_memory", "estimate_memory", "member_parameters"]
