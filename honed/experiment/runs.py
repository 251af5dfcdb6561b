"""Run directories: train an experiment, resume it, and summarise it.

A run directory holds everything about one training run::

    runs/fashion_mlp-20261123-101500/
      config.json          the resolved experiment configuration
      run.json             status (running, complete, early_stopped, diverged, interrupted)
      metrics.csv          one row per epoch (also metrics.jsonl)
      checkpoints/         epoch-NNNN.npz: model, optimizer, generators, history
      model.npz            the final model (best weights when early stopping restored them)
      curves.png           train vs dev cost and error, learning rate
      summary.json         final train/dev/test cost and error, diagnosis
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from honed import validation as check
from honed.diagnose import diagnose
from honed.experiment.build import build_trainer, prepare_data
from honed.experiment.config import resolve_config
from honed.train import (
    Checkpoint,
    MetricsLogger,
    ProgressBar,
    Status,
    TrainingDiverged,
    list_checkpoints,
    load_state,
)


@dataclass
class RunResult:
    run_dir: Path | None
    status: str
    message: str = ""
    errors: dict[str, dict[str, float]] = field(default_factory=dict)
    diagnosis: Any = None
    epochs: int = 0
    seconds: float = 0.0
    trainer: Any = None

    @property
    def ok(self) -> bool:
        return Status.parse(self.status).finished


def new_run_dir(out, name: str) -> Path:
    out = Path(out)
    stem = f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir, n = out / stem, 1
    while run_dir.exists():
        n += 1
        run_dir = out / f"{stem}-{n}"
    run_dir.mkdir(parents=True)
    return run_dir


def _write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=float))
    tmp.replace(path)


def _callbacks(config, run_dir: Path | None, verbose: int):
    callbacks = []
    if run_dir is not None:
        if config.train.checkpoint_every:  # 0: no checkpoints (long toy runs)
            callbacks.append(
                Checkpoint(run_dir / "checkpoints", every=config.train.checkpoint_every)
            )
        callbacks.append(MetricsLogger(run_dir))
    if verbose:
        callbacks.append(ProgressBar(verbose=verbose, every=config.train.log_every))
    return callbacks


def _fit_and_report(
    config, data, trainer, run_dir: Path | None, verbose: int, started: float
) -> RunResult:
    if run_dir is not None:
        _write_json(run_dir / "run.json", {"status": Status.RUNNING, "epoch": trainer.epoch})
    try:
        trainer.fit(data.train, data.dev, epochs=config.train.epochs)
    except TrainingDiverged as err:
        result = RunResult(
            run_dir,
            Status.DIVERGED,
            str(err),
            epochs=trainer.epoch,
            seconds=time.perf_counter() - started,
            trainer=trainer,
        )
        _finish(config, trainer, run_dir, result, verbose)
        return result
    except KeyboardInterrupt:
        result = RunResult(
            run_dir,
            Status.INTERRUPTED,
            f"interrupted during epoch {trainer.epoch + 1}; "
            "continue with: honed resume " + str(run_dir),
            epochs=trainer.epoch,
            seconds=time.perf_counter() - started,
            trainer=trainer,
        )
        _finish(config, trainer, run_dir, result, verbose)
        return result
    result = RunResult(
        run_dir,
        trainer.history.status,
        epochs=trainer.epoch,
        seconds=time.perf_counter() - started,
        trainer=trainer,
    )
    for split in ("train", "dev", "test"):
        result.errors[split] = trainer.evaluate(getattr(data, split))
    result.diagnosis = diagnose(
        result.errors["train"]["error"], result.errors["dev"]["error"], config.human_error
    )
    _finish(config, trainer, run_dir, result, verbose)
    return result


def _finish(config, trainer, run_dir: Path | None, result: RunResult, verbose: int) -> None:
    if run_dir is not None:
        from honed.nn import save

        status = {
            "status": result.status,
            "message": result.message,
            "epoch": trainer.epoch,
            "restored_epoch": trainer.restored_epoch,
        }
        _write_json(run_dir / "run.json", status)
        summary = {
            **status,
            "seconds": result.seconds,
            "errors": result.errors,
            "diagnosis": result.diagnosis.to_dict() if result.diagnosis else None,
        }
        _write_json(run_dir / "summary.json", summary)
        if result.ok:
            save(trainer.model, run_dir / "model.npz")
        if len(trainer.history):
            try:
                from honed.plots.curves import plot_curves

                plot_curves(trainer.history, run_dir / "curves.png", title=config.name)
            except ImportError:  # matplotlib is optional (pip install 'honed[viz]')
                pass
    if verbose:
        print(format_summary(result, trainer))


def format_summary(result: RunResult, trainer=None) -> str:
    lines = [
        f"run: {result.run_dir}  status: {result.status}  epochs: {result.epochs}  time: {result.seconds:.1f} s"
    ]
    if result.message:
        lines.append(result.message)
    if trainer is not None and trainer.restored_epoch:
        lines.append(
            f"early stopping restored the weights of epoch {trainer.restored_epoch} (lowest dev error)"
        )
    if result.errors:
        lines.append(f"{'':8}{'cost':>10}{'error':>10}{'accuracy':>10}")
        for split, e in result.errors.items():
            lines.append(f"{split:8}{e['cost']:>10.4f}{e['error']:>10.2%}{1 - e['error']:>10.2%}")
    if result.diagnosis is not None:
        lines.append(str(result.diagnosis))
    return "\n".join(lines)


def train_experiment(
    config: dict, out="runs", verbose: int = 1, run_dir: Path | None = None
) -> RunResult:
    """Train a resolved experiment config; write a run directory under ``out`` (None: none)."""
    started = time.perf_counter()
    if run_dir is None and out is not None:
        run_dir = new_run_dir(out, config.name)
    if run_dir is not None:
        _write_json(run_dir / "config.json", config.to_dict())
    data = prepare_data(config)
    trainer = build_trainer(config, data, callbacks=_callbacks(config, run_dir, verbose))
    if verbose:
        print(
            f"{config.name}: train {len(data.train)}, dev {len(data.dev)}, test {len(data.test)} examples; "
            f"model {trainer.model.num_parameters():,} parameters"
            + (f"; run dir {run_dir}" if run_dir else "")
        )
    return _fit_and_report(config, data, trainer, run_dir, verbose, started)


def resume_run(
    run_dir,
    epochs: int | None = None,
    lr: float | None = None,
    from_epoch: int | None = None,
    verbose: int = 1,
) -> RunResult:
    """Continue a run from its last (or ``from_epoch``) checkpoint — the notes' "panda".

    Args:
        epochs: train until this many epochs in total (default: the config's).
        lr: a new learning rate from the resumed epoch on; recorded in the history (and drawn
            on the curves). With a ``manual`` schedule it is added to the table; otherwise it
            replaces the schedule by this constant rate.
        from_epoch: roll back to the checkpoint of this epoch instead of the last one.
    """
    started = time.perf_counter()
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not config_path.exists():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json)")
    config = resolve_config(json.loads(config_path.read_text()))
    if epochs is not None:
        config = config.replace({"train.epochs": check.integer("--epochs", epochs, minimum=1)})
        _write_json(config_path, config.to_dict())
    if lr is not None:
        check.positive("--lr", lr)
    checkpoints = list_checkpoints(run_dir / "checkpoints")
    if not checkpoints:
        raise FileNotFoundError(f"{run_dir} has no checkpoints to resume from")
    if from_epoch is None:
        from_epoch = max(checkpoints)
    if from_epoch not in checkpoints:
        raise ValueError(
            f"--from-epoch {from_epoch} has no checkpoint; available: {sorted(checkpoints)}"
        )
    state = load_state(checkpoints[from_epoch])
    data = prepare_data(config, normalizer_state=state.get("extra", {}).get("normalizer"))
    trainer = build_trainer(config, data, callbacks=_callbacks(config, run_dir, verbose))
    trainer.load_state_dict(state)
    if lr is not None:
        trainer.optimizer.set_epoch(trainer.epoch)
        trainer.optimizer.set_lr(lr)
        trainer.history.events.append({"epoch": trainer.epoch, "event": "lr", "value": lr})
    if verbose:
        print(
            f"resuming {run_dir} from epoch {trainer.epoch} to {config.train.epochs}"
            + (f" with lr {lr:g}" if lr is not None else "")
        )
    return _fit_and_report(config, data, trainer, run_dir, verbose, started)
