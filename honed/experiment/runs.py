"""Run directories: train an experiment, resume it, and summarise it.

A run directory holds everything about one training run::

    runs/fashion_mlp-20261123-101500/
      config.json          the resolved experiment configuration
      run.json             status (running, complete, early_stopped, diverged, interrupted)
      metrics.csv          one row per epoch (also metrics.jsonl)
      checkpoints/         epoch-NNNN.npz: model, optimizer, generators, history (the last
                           train.keep_checkpoints and the best dev error's)
      bundle.npz           preprocessing, input shape, class names (honed.load_run)
      model.npz            the final model (best weights when early stopping restored them)
      curves.png           train vs dev cost and error, learning rate
      summary.json         final train/dev/test cost and error, diagnosis, disk use

``run.json`` also holds the provenance (versions, git commit, host, command line, ``--set``
overrides, seed, the study trial behind ``--from-study``), the parent run and branch point
of a fork, and every resume.

``honed resume RUN --from-epoch K`` never touches RUN: it forks a new run directory
``RUN-eK`` (next to it) from epoch K's checkpoint. A resume is validated completely before
anything is written, so a rejected one changes nothing on disk.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from honed import validation as check
from honed.diagnose import diagnose
from honed.experiment.build import build_trainer, prepare_data
from honed.experiment.bundle import BUNDLE_FILE, write_bundle
from honed.experiment.config import resolve_config
from honed.experiment.provenance import provenance, utc_now
from honed.train import (
    Checkpoint,
    MetricsLogger,
    ProgressBar,
    Status,
    TrainingDiverged,
    list_checkpoints,
    load_state,
)
from honed.train.lock import hold_run_lock


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
    disk_bytes: int | None = None
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return Status.parse(self.status).finished

    def _repr_html_(self) -> str:
        """In a notebook: status, errors per split, diagnosis and curves."""
        from honed.experiment.html import run_html

        verdict = getattr(self.diagnosis, "verdict", None)
        title = self.run_dir.name if self.run_dir is not None else "run (not saved)"
        history = self.trainer.history if self.trainer is not None else None
        return run_html(title, self.run_dir, str(self.status), self.errors, verdict, history)


def _free_name(out: Path, stem: str) -> Path:
    run_dir, n = out / stem, 1
    while run_dir.exists():
        n += 1
        run_dir = out / f"{stem}-{n}"
    return run_dir


def new_run_dir(out, name: str) -> Path:
    run_dir = _free_name(Path(out), f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
    run_dir.mkdir(parents=True)
    return run_dir


def read_run_record(run_dir: Path) -> dict:
    path = Path(run_dir) / "run.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _update_run_record(run_dir: Path, **fields) -> None:
    """Merge ``fields`` into run.json (status, provenance and resumes live side by side)."""
    record = read_run_record(run_dir)
    record.update(fields)
    _write_json(run_dir / "run.json", record)


def disk_use(run_dir: Path) -> tuple[int, int]:
    """(bytes under ``run_dir``, number of checkpoints)."""
    files = [p for p in Path(run_dir).rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(
        list_checkpoints(Path(run_dir) / "checkpoints")
    )


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _write_json(path: Path, obj) -> None:
    from honed.train.durable import write_json  # unique temp name + fsync + rename

    write_json(path, obj)


def _callbacks(config, run_dir: Path | None, verbose: int):
    callbacks = []
    if run_dir is not None:
        if config.train.checkpoint_every:  # 0: no checkpoints (long toy runs)
            callbacks.append(
                Checkpoint(
                    run_dir / "checkpoints",
                    every=config.train.checkpoint_every,
                    keep=config.train.keep_checkpoints,
                )
            )
        callbacks.append(MetricsLogger(run_dir))
    if verbose:
        # -v: every epoch line whatever train.log_every says
        every = 1 if verbose >= 2 else config.train.log_every
        callbacks.append(ProgressBar(verbose=verbose, every=every))
    return callbacks


@hold_run_lock  # one process at a time trains a run directory
def _fit_and_report(
    config, data, trainer, run_dir: Path | None, verbose: int, started: float
) -> RunResult:
    if run_dir is not None:
        _update_run_record(run_dir, status=Status.RUNNING, epoch=trainer.epoch)
    try:
        trainer.fit(data.train, data.dev, epochs=config.train.epochs, verbose=0)
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
            f"interrupted during epoch {trainer.epoch + 1}"
            + (
                "; continue with: honed resume " + str(run_dir)
                if run_dir is not None and list_checkpoints(run_dir / "checkpoints")
                else " (no checkpoint: train.checkpoint_every = 0)"
            ),
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
    result.diagnosis = _diagnosis(config, data, result.errors, trainer.history.epochs)
    _finish(config, trainer, run_dir, result, verbose)
    return result


def _diagnosis(config, data, errors: dict, history: list[dict]):
    """The bias/variance verdict in the task's metric (regression: RMSE against the constant
    predictor)."""
    if data.task == "regression":
        import numpy as np

        from honed.diagnose import diagnose_regression

        sigma = float(np.sqrt(np.mean(np.square(data.target_scaler.std_))))
        return diagnose_regression(
            errors["train"]["rmse"],
            errors["dev"]["rmse"],
            sigma,
            config.human_error,
            history=history,
        )
    return diagnose(
        errors["train"]["error"],
        errors["dev"]["error"],
        config.human_error,
        dataset=config.data.dataset,
        history=history,
    )


def _finish(config, trainer, run_dir: Path | None, result: RunResult, verbose: int) -> None:
    if run_dir is not None:
        from honed.nn import save

        status = {
            "status": result.status,
            "message": result.message,
            "epoch": trainer.epoch,
            "restored_epoch": trainer.restored_epoch,
        }
        _update_run_record(run_dir, **status)
        if result.ok:
            save(trainer.model, run_dir / "model.npz")
        if len(trainer.history):
            try:
                from honed.plots.curves import plot_curves

                plot_curves(trainer.history, run_dir / "curves.png", title=config.name)
            except ImportError:  # matplotlib is optional (pip install 'honed[viz]')
                pass
        summary = {
            **status,
            "seconds": result.seconds,
            "errors": result.errors,
            "diagnosis": result.diagnosis.to_dict() if result.diagnosis else None,
        }
        _write_json(run_dir / "summary.json", summary)
        result.disk_bytes, result.checkpoints = disk_use(run_dir)
        summary["disk_bytes"], summary["checkpoints"] = result.disk_bytes, result.checkpoints
        _write_json(run_dir / "summary.json", summary)
    if verbose:
        print(format_summary(result, trainer))


def format_summary(result: RunResult, trainer=None) -> str:
    lines = [
        f"run: {result.run_dir}  status: {result.status}  epochs: {result.epochs}  "
        f"time: {result.seconds:.1f} s"
    ]
    if result.message:
        lines.append(result.message)
    if trainer is not None and trainer.restored_epoch:
        monitor = next(
            (cb.monitor for cb in trainer.callbacks if type(cb).__name__ == "EarlyStopping"),
            "dev_error",
        )
        lines.append(
            f"early stopping restored the weights of epoch {trainer.restored_epoch} "
            f"(lowest {monitor.replace('_', ' ')})"
        )
    if result.disk_bytes is not None:
        lines.append(
            f"disk: {_megabytes(result.disk_bytes)} in the run directory "
            f"({result.checkpoints} checkpoints kept)"
        )
    lines += format_errors(result.errors)
    if result.diagnosis is not None:
        lines.append(str(result.diagnosis))
    return "\n".join(lines)


class marked_failed_on_error:
    """A run that fails after its directory exists is marked ``failed`` in run.json, with the
    reason, instead of being left ``running`` (or ``new``) forever; the error goes on up.
    Ctrl-C and signals are the trainer's (status ``interrupted``)."""

    def __init__(self, run_dir: Path | None):
        self.run_dir = run_dir

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        from honed.train.lock import RunLocked

        if err is None or self.run_dir is None or not isinstance(err, Exception):
            return False
        if isinstance(err, RunLocked):  # another process is training it: not ours to mark
            return False
        try:
            reason = f"{type(err).__name__}: {err}" if not isinstance(err, ValueError) else str(err)
            _update_run_record(Path(self.run_dir), status=Status.FAILED, message=reason)
        except Exception:  # noqa: BLE001 - the original error matters more (e.g. a full disk)
            pass
        return False


def failed_reason(run_dir) -> str | None:
    """``"failed: REASON"`` when run.json marks the run failed, else None."""
    try:
        record = read_run_record(Path(run_dir))
    except (OSError, ValueError):
        return None
    if record.get("status") == Status.FAILED:
        return f"the run failed: {record.get('message') or 'no reason recorded'}"
    return None


def format_errors(errors: dict) -> list[str]:
    """The final cost and error per split: error and accuracy, or RMSE, MAE and R²."""
    if not errors:
        return []
    if all("r2" in e for e in errors.values()):
        lines = [f"{'':8}{'cost':>10}{'RMSE':>12}{'MAE':>12}{'R²':>9}"]
        for split, e in errors.items():
            lines.append(
                f"{split:8}{e['cost']:>10.4f}{e['rmse']:>12.4g}{e['mae']:>12.4g}{e['r2']:>9.4f}"
            )
        return lines
    lines = [f"{'':8}{'cost':>10}{'error':>10}{'accuracy':>10}"]
    for split, e in errors.items():
        lines.append(f"{split:8}{e['cost']:>10.4f}{e['error']:>10.2%}{1 - e['error']:>10.2%}")
    return lines


def train_experiment(
    config,
    out="runs",
    verbose: int = 1,
    run_dir: Path | None = None,
    overrides: dict | None = None,
    from_study: dict | None = None,
    argv: list[str] | None = None,
) -> RunResult:
    """Train a resolved experiment config; write a run directory under ``out`` (None: none).

    Args:
        verbose: 0 silent, 1 the header, model summary, epoch lines (every
            ``train.log_every``) and the summary; 2 also every epoch line and the config.
        overrides: the ``--set`` overrides, recorded in run.json.
        from_study: ``{"study", "path", "trial", "params"}`` behind ``--from-study``.
        argv: the command line to record (default ``sys.argv``).
    """
    started = time.perf_counter()
    # Check, then write: data, model, loss and output are built and checked against each
    # other before a run directory exists, so bad input leaves nothing behind.
    data = prepare_data(config)
    build_trainer(config, data)
    if run_dir is None and out is not None:
        run_dir = new_run_dir(out, config.name)
    with marked_failed_on_error(run_dir):
        return _start(config, data, run_dir, verbose, overrides, from_study, argv, started)


def _start(config, data, run_dir, verbose, overrides, from_study, argv, started) -> RunResult:
    trainer = build_trainer(config, data, callbacks=_callbacks(config, run_dir, verbose))
    if run_dir is not None:
        _write_json(run_dir / "config.json", config.to_dict())
        write_bundle(run_dir, config, data)
        _update_run_record(
            run_dir,
            status=Status.NEW,
            provenance=provenance(argv),
            overrides=dict(overrides or {}),
            seed=config.seed,
            from_study=from_study,
            parent=None,
            resumes=[],
        )
    if verbose:
        print(
            f"{config.name}: train {len(data.train)}, dev {len(data.dev)}, "
            f"test {len(data.test)} examples" + (f"; run dir {run_dir}" if run_dir else "")
        )
        if from_study:
            print(
                f"from study {from_study['study']!r} ({from_study['path']}): trial "
                f"{from_study['trial']}, {from_study['params']}"
            )
        if verbose >= 2:
            from honed.experiment.config import format_config

            print(format_config(config))
        print(trainer.model.summary(data.train.X.shape[1:]))
    return _fit_and_report(config, data, trainer, run_dir, verbose, started)


def _lr_change(optimizer, lr: float, constant_lr: bool) -> dict:
    """Apply ``--lr`` at the optimizer's current epoch e; returns what was done.

    * no schedule, or ``constant_lr``: α = lr from now on (schedule replaced by a constant);
    * a ``manual`` schedule: the table gets the entry {e: lr};
    * another schedule keeps its shape from the new rate: α₀' = α₀ · lr / α(e), so
      α'(e) = lr and α'(t) / α'(e) = α(t) / α(e) for every later epoch t.
    """
    from honed.optim.schedules import Schedule, constant, manual, schedule_from_config

    schedule = optimizer.schedule
    before = optimizer.lr
    if constant_lr or not isinstance(schedule, Schedule) or schedule.name == "constant":
        # a constant schedule object, not a float: set_lr would add a float to a manual table
        optimizer.set_lr(constant(float(lr)))
        return {"mode": "constant", "lr": lr, "before": before, "schedule": {"name": "constant"}}
    if isinstance(schedule, manual):
        optimizer.set_lr(lr)
        config = schedule.to_config()
        return {"mode": "manual table entry", "lr": lr, "before": before, "schedule": config}
    config = schedule.to_config()
    config["lr"] = schedule.lr * lr / before
    optimizer.set_lr(schedule_from_config(config))
    return {
        "mode": f"{schedule.name} schedule kept, scaled from the new rate",
        "lr": lr,
        "before": before,
        "schedule": config,
    }


@hold_run_lock  # held from reading the checkpoint to the end: two resumes never race
def resume_run(
    run_dir,
    epochs: int | None = None,
    lr: float | None = None,
    from_epoch: int | None = None,
    verbose: int = 1,
    constant_lr: bool = False,
    argv: list[str] | None = None,
) -> RunResult:
    """Continue a run from its last (or ``from_epoch``) checkpoint — the notes' "panda".

    Args:
        epochs: train until this many epochs in total (default: the config's); never fewer
            than the epochs already done at the resume point.
        lr: a new learning rate from the resumed epoch on; recorded in the history (and drawn
            on the curves) and in run.json. A schedule keeps its shape from the new rate
            (α₀ scaled so that α(e) = lr; a ``manual`` table gets an entry) unless
            ``constant_lr``: then the rate is lr from here on. The config written says which.
        from_epoch: fork a NEW run directory ``RUN-eK`` from this epoch's checkpoint; the
            run itself is left untouched (its branch is not lost).

    Everything is checked (and the trainer built) before anything is written: a rejected
    resume changes nothing on disk.
    """
    started = time.perf_counter()
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not config_path.exists():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json)")
    from honed.train.durable import read_json  # names the file when it is damaged

    config = resolve_config(read_json(config_path, "run config"))
    # every check before anything is written: a refused resume changes nothing
    if epochs is not None:
        epochs = check.integer("--epochs", epochs, minimum=1)
    if lr is not None:
        lr = check.positive("--lr", lr)
    elif constant_lr:
        raise ValueError("--constant-lr needs --lr (the constant rate)")
    checkpoints = list_checkpoints(run_dir / "checkpoints")
    failed = failed_reason(run_dir)
    if failed and not checkpoints:
        raise ValueError(f"{run_dir}: {failed}; no checkpoint to resume from: train it again")
    if not checkpoints:
        raise FileNotFoundError(f"{run_dir} has no checkpoints to resume from")
    if failed and verbose:
        print(f"note: {failed}; resuming from its last checkpoint")
    fork = from_epoch is not None
    if from_epoch is None:
        from_epoch = max(checkpoints)
    if from_epoch not in checkpoints:
        raise ValueError(
            f"--from-epoch {from_epoch} has no checkpoint; available: {sorted(checkpoints)}"
        )
    state = load_state(checkpoints[from_epoch])
    done = int(state["epoch"])
    if epochs is not None and epochs < done:
        raise ValueError(
            f"--epochs {epochs} is lower than the {done} epochs already done at the resume "
            "point (it is the total to reach)"
        )
    if epochs is not None:
        config = config.replace({"train.epochs": epochs})
    target = _free_name(run_dir.parent, f"{run_dir.name}-e{from_epoch}") if fork else run_dir
    data = prepare_data(config, normalizer_state=state.get("extra", {}).get("normalizer"))
    trainer = build_trainer(config, data, callbacks=_callbacks(config, target, verbose))
    trainer.load_state_dict(state)
    change = None
    if lr is not None:
        trainer.optimizer.set_epoch(trainer.epoch)
        change = _lr_change(trainer.optimizer, lr, constant_lr)
        trainer.history.events.append({"epoch": trainer.epoch, "event": "lr", "value": lr})
        updates = {"train.schedule": {k: v for k, v in change["schedule"].items() if k != "lr"}}
        updates["train.lr"] = change["schedule"].get("lr", lr)
        config = config.replace(updates)
    parent_record = read_run_record(run_dir)
    resume = {
        "time": utc_now(),
        "run": str(run_dir),
        "from_epoch": done,
        "epochs": config.train.epochs,
        "lr_change": change,
        "command": provenance(argv)["command"],
    }
    # -- validated: now write -------------------------------------------------------------
    if fork:
        (target / "checkpoints").mkdir(parents=True)
        shutil.copy2(checkpoints[from_epoch], target / "checkpoints" / checkpoints[from_epoch].name)
        if (run_dir / BUNDLE_FILE).exists():
            shutil.copy2(run_dir / BUNDLE_FILE, target / BUNDLE_FILE)
        record = {
            k: v for k, v in parent_record.items() if k in ("provenance", "overrides", "seed")
        }
        record["from_study"] = parent_record.get("from_study")
        record["parent"] = {"run": str(run_dir), "epoch": done}
        record["resumes"] = [*parent_record.get("resumes", []), resume]
        _write_json(target / "run.json", record)
    else:
        _update_run_record(target, resumes=[*parent_record.get("resumes", []), resume])
    _write_json(target / "config.json", config.to_dict())
    if verbose:
        where = f"fork {target} of {run_dir}" if fork else str(run_dir)
        print(f"resuming {where} from epoch {trainer.epoch} to {config.train.epochs}")
        if change:
            print(
                f"learning rate {change['before']:.3g} → {lr:g} from epoch {trainer.epoch}: "
                f"{change['mode']}"
            )
    with marked_failed_on_error(target):
        return _fit_and_report(config, data, trainer, target, verbose, started)


def no_summary(run: Path) -> str:
    """Why ``run`` has no summary.json, what it holds and what to do; FileNotFoundError
    when it is no run directory at all (no config.json)."""
    from honed.train import list_checkpoints
    from honed.train.lock import live_owner

    if not (run / "config.json").is_file():
        raise FileNotFoundError(f"{run} has no summary.json (is it a run directory?)")
    metrics = run / "metrics.jsonl"
    lines = metrics.read_text(encoding="utf-8").splitlines() if metrics.is_file() else []
    epochs = sum(1 for line in lines if line.strip())
    checkpoints = sorted(list_checkpoints(run / "checkpoints"))
    owner = live_owner(run)
    if owner is not None:
        return (
            f"{run} has no summary.json yet: it is still training (process {owner['pid']} on "
            f"{owner['host']}); {epochs} epoch(s) in metrics.jsonl so far"
        )
    saved = (
        f"checkpoints of epoch(s) {', '.join(map(str, checkpoints))}; continue it with: "
        f"honed resume {run}"
        if checkpoints
        else "no checkpoint was saved, so train it again"
    )
    return (
        f"{run} has no summary.json: its training stopped before the end (the process was "
        f"killed or the machine went down) with {epochs} epoch(s) in metrics.jsonl and "
        f"{saved}"
    )
