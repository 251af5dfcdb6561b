"""Diagnosis: bias/variance, activation and gradient statistics."""

from honed.diagnose.bias_variance import Diagnosis, diagnose

__all__ = ["Diagnosis", "diagnose"]
