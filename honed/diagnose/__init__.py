"""Diagnosis: bias/variance, activation and gradient statistics."""

from honed.diagnose.bias_variance import Diagnosis, diagnose
from honed.diagnose.gradients import gradcheck_model, gradient_norms, switch_off_dropout

__all__ = ["Diagnosis", "diagnose", "gradcheck_model", "gradient_norms", "switch_off_dropout"]
