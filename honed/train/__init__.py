"""Training: the Trainer loop, callbacks, checkpoints and history."""

from honed.train.callbacks import Callback, Checkpoint, EarlyStopping, MetricsLogger, ProgressBar
from honed.train.checkpoint import list_checkpoints, load_state, save_state
from honed.train.live import LivePlot
from honed.train.metrics import History
from honed.train.status import Status
from honed.train.trainer import Trainer, TrainingDiverged

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "History",
    "LivePlot",
    "MetricsLogger",
    "ProgressBar",
    "Status",
    "Trainer",
    "TrainingDiverged",
    "list_checkpoints",
    "load_state",
    "save_state",
]
