"""Diagnosis: bias/variance verdicts, gradient checks of models, activation statistics."""

from honed.diagnose.activations import (
    WEIGHT_SETTINGS,
    LayerStats,
    activation_stats,
    deep_stack,
    format_stats,
    init_experiment,
)
from honed.diagnose.bias_variance import Diagnosis, diagnose, diagnose_regression
from honed.diagnose.gradients import gradcheck_model, gradient_norms, switch_off_dropout

__all__ = [
    "WEIGHT_SETTINGS",
    "Diagnosis",
    "LayerStats",
    "activation_stats",
    "deep_stack",
    "diagnose",
    "diagnose_regression",
    "format_stats",
    "gradcheck_model",
    "gradient_norms",
    "init_experiment",
    "switch_off_dropout",
]
