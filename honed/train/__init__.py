"""Training: the Trainer loop, callbacks, checkpoints and history."""

from honed.train.callbacks import Callback, Checkpoint, EarlyStopping, MetricsLogger, ProgressBar
from honed.train.checkpoint import list_checkpoints, load_state, save_state
from honed.train.metrics import History, error_rate
from honed.train.trainer import LOSSES, Trainer, TrainingDiverged

__all__ = [
    "LOSSES",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "History",
    "MetricsLogger",
    "ProgressBar",
    "Trainer",
    "TrainingDiverged",
    "error_rate",
    "list_checkpoints",
    "load_state",
    "save_state",
]
