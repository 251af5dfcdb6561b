"""Moved to :mod:`honed.optim.kernels` (kept until the stacked engine is deleted)."""

from honed.optim.kernels import KERNELS, available, fused_update, resolve

__all__ = ["KERNELS", "available", "fused_update", "resolve"]
