"""The ``honed`` command line: one function per command; its docstring is its help.

    honed train EXP.toml [--set train.lr=3e-4 ...] [--out runs/] [-q | -v] [--log-every N]
    honed config EXP.toml [--set ...] | honed config --keys
    honed resume RUN [--epochs N] [--lr X [--constant-lr]] [--from-epoch E]
    honed predict RUN INPUT [--out preds.csv] [--proba]
    honed evaluate RUN [--split test|dev|train] [--data PATH]
    honed export RUN --format onnx --out model.onnx
    honed report RUN
    honed diagnose RUN | --train-error 0.01 --dev-error 0.11 [--human-error 0.0]
    honed gradcheck EXP.toml
    honed tune EXP.toml [--trials N] [--workers W] [--strategy random|grid|zoom|pbt|tpe]
               [--study PATH] [--prune | --pruner median|hyperband] [--new-study]
               [--executor process|inprocess|population|ray|ray_population [--address A]]
               [--max-members N]
    honed study show PATH | honed study report PATH [--html] | honed study upgrade PATH
    honed dashboard PATH [--port 8080]
    honed lab [NAME] [--seeds N] [--out DIR] [--quick] | honed lab --all --out lab/
    honed compare RUN RUN ... [--out compare.png]
    honed --version

Exit codes: 0 success, 1 bad input, 2 usage, 3 training diverged, 4 gradient check failed,
5 tuning workers kept dying (the study stops; running it again resumes it), 6 a lab verdict
was FAIL, 7 a lab verdict was INCONCLUSIVE (none FAIL), 130 interrupted.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import sys
from pathlib import Path

from honed import __version__
from honed import validation as check

EXIT_OK, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_GRADCHECK, EXIT_INTERRUPTED = 0, 1, 3, 4, 130
EXIT_WORKERS = 5  # worker processes kept dying; the study stopped and can be resumed


def _status_code(result) -> int:
    if result.status == "diverged":
        return EXIT_DIVERGED
    if result.status == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_OK


def _verbosity(args) -> int:
    return 0 if args.quiet else (2 if getattr(args, "verbose", False) else 1)


def cmd_train(args) -> int:
    """Train the experiment described by a TOML file and write a run directory.

    The run directory (under --out) gets the resolved config, per-epoch metrics,
    checkpoints (the last train.keep_checkpoints and the best), curves.png, the final model,
    bundle.npz (preprocessing and class names, for honed predict / evaluate and
    honed.load_run), run.json (provenance: versions, git commit, host, command line, --set
    overrides, seed, the study trial) and summary.json; the model summary, epoch lines
    (errors in percent), the final train/dev/test errors, the disk use and the
    bias/variance verdict are printed. --set overrides any key of the file (e.g. --set
    train.lr=3e-4 --set model.hidden=[128,128]). --from-study trains the best configuration
    found by `honed tune`. -q prints only the final status, -v every epoch line and the
    resolved config; --log-every N prints every N-th epoch line (train.log_every).
    """
    from honed import experiment as ex
    from honed.experiment.runs import train_experiment

    overrides = ex.parse_set_options(args.set)
    if args.log_every is not None:
        from honed import validation as check

        overrides["train.log_every"] = check.integer("--log-every", args.log_every, minimum=1)
    study_info = None
    if args.from_study:
        from honed.experiment.tuning import best_trial_for, trial_params

        # the study must be this experiment's (its tuned keys aside)
        study, best = best_trial_for(args.from_study, ex.load_config(args.experiment, overrides))
        params = trial_params(best)  # a PBT member: the values it ended with
        study_info = {
            "path": str(args.from_study),
            "study": study.name,
            "trial": best.number,
            "value": best.value,
            "params": params,
        }
        if "pbt" in (best.user_attrs or {}):
            study_info["pbt"] = True
            print(
                f"trial #{best.number} is a PBT member: training its final values from "
                "scratch (its dev error came from a schedule of values and inherited weights)"
            )
        print(
            f"from study {study.name!r}: trial #{best.number} ({study.value_name} {best.value:.4g}): "
            + ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
            )
        )
        overrides = {**params, **overrides}
    config = ex.load_config(args.experiment, overrides)
    result = train_experiment(
        config,
        out=args.out,
        verbose=_verbosity(args),
        overrides=overrides,
        from_study=study_info,
        argv=getattr(args, "argv", None),
    )
    if study_info is not None and result.run_dir is not None:  # the run says where it came from
        (Path(result.run_dir) / "from_study.json").write_text(json.dumps(study_info, indent=1))
    if args.quiet:
        print(
            f"{result.status}: {result.run_dir}"
            + (f" — {result.message}" if result.message else "")
        )
    return _status_code(result)


def cmd_config(args) -> int:
    """Print the resolved configuration of an experiment file (every key, defaults filled in,
    --set overrides applied), or with --keys the reference of every key: its type, default
    and meaning (also in docs/config-keys.md)."""
    from honed import experiment as ex

    if args.keys:
        print(ex.key_reference())
        return EXIT_OK
    if not args.experiment:
        raise ValueError("give an experiment file (honed config EXP.toml) or --keys")
    config = ex.load_config(args.experiment, ex.parse_set_options(args.set))
    print(ex.format_config(config))
    return EXIT_OK


def cmd_resume(args) -> int:
    """Continue a run from its last checkpoint, or fork it from --from-epoch (the notes'
    "panda" way).

    --epochs sets the total number of epochs to reach (never fewer than those already done);
    --lr changes the learning rate from the resumed epoch on (recorded in the history, in
    run.json and marked on curves.png): a decay schedule keeps its shape from the new rate
    (α₀ scaled so the rate at this epoch is --lr) unless --constant-lr. --from-epoch K
    forks a new run directory RUN-eK from epoch K's checkpoint; RUN itself is never
    modified. A rejected resume changes nothing on disk. A run killed at any point
    continues exactly as if it had never stopped.
    """
    from honed.experiment.runs import resume_run

    result = resume_run(
        args.run,
        epochs=args.epochs,
        lr=args.lr,
        from_epoch=args.from_epoch,
        verbose=0 if args.quiet else 1,
        constant_lr=args.constant_lr,
        argv=getattr(args, "argv", None),
    )
    if args.quiet:
        print(f"{result.status}: {result.run_dir}")
    return _status_code(result)


def _read_input(path: Path):
    """Raw examples from CSV (numbers; a header row is skipped), .npz (array X, or its only
    array) or IDX (.idx, *-ubyte, optionally .gz)."""
    import numpy as np

    if not path.exists():
        raise FileNotFoundError(f"INPUT {path} does not exist")
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    if name.endswith(".csv"):
        with open(path) as f:
            first = f.readline()
        try:
            [float(v) for v in first.strip().split(",")]
            skip = 0
        except ValueError:
            skip = 1
        X = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
        return X
    if name.endswith(".npz"):
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            if "X" in keys:
                return f["X"]
            if len(keys) == 1:
                return f[keys[0]]
        raise ValueError(f"INPUT {path} has arrays {keys}: name the examples X")
    if name.endswith(".idx") or "-ubyte" in name or "idx" in name.rsplit(".", 1)[-1]:
        from honed.data import read_idx

        return read_idx(path)
    raise ValueError(f"INPUT must be .csv, .npz or IDX (.idx, *-ubyte[.gz]), got {path.name!r}")


def cmd_predict(args) -> int:
    """Predict with a trained run on raw input, with the run's own preprocessing.

    INPUT is CSV (one example a row), .npz (array X) or IDX (e.g. Fashion-MNIST's
    t10k-images-idx3-ubyte.gz: raw 0..255 pixels are converted exactly as in training).
    Prints one line per example (index, class index, class name), or writes them with
    --out preds.csv; --proba adds the class probabilities. Input of the wrong shape is
    refused with the shape the run expects. A run trained on a table (dataset "table")
    takes CSV or Parquet: columns matched by name in any order (the target may be there and
    is ignored; a missing or unknown column is refused naming it), by position without a
    header. A regression run prints its predicted values in the targets' units.
    """
    import numpy as np

    from honed.experiment.bundle import load_run

    run = load_run(args.run)
    if run.table is not None:  # a table: columns matched by name (by position without header)
        if not Path(args.input).exists():
            raise FileNotFoundError(f"INPUT {args.input} does not exist")
        X = run.read_table_input(Path(args.input))
    else:
        X = _read_input(Path(args.input))
    if run.is_regression:
        return _print_regression(run, X, args)
    try:
        proba = run.predict_proba(X)
    except ValueError as err:
        raise ValueError(f"INPUT {args.input}: {err}") from None
    pred = proba.argmax(axis=1)
    header = ["index", "label", "class"] + (
        [f"p_{name}" for name in run.class_names] if args.proba else []
    )
    rows = []
    for i, (k, p) in enumerate(zip(pred, proba)):
        row = [str(i), str(int(k)), run.class_names[k]]
        if args.proba:
            row += [f"{v:.6g}" for v in p]
        rows.append(row)
    if args.out:
        _write_rows(args.out, header, rows)
        counts = np.bincount(pred, minlength=len(run.class_names))
        top = ", ".join(
            f"{run.class_names[k]} {counts[k]}" for k in np.argsort(counts)[::-1][:3] if counts[k]
        )
        print(f"{len(pred)} predictions → {args.out} (most predicted: {top})")
    else:
        print(",".join(header))
        for row in rows:
            print(",".join(row))
    return EXIT_OK


def _print_regression(run, X, args) -> int:
    """Regression predictions, one row per example, in the targets' units."""
    try:
        values = run.predict_values(X)
    except ValueError as err:
        raise ValueError(f"INPUT {args.input}: {err}") from None
    names = run.target_names or [f"y{j}" for j in range(values.shape[1])]
    if len(names) != values.shape[1]:
        names = [f"y{j}" for j in range(values.shape[1])]
    header = ["index", *names]
    rows = [[str(i), *(f"{v:.6g}" for v in row)] for i, row in enumerate(values)]
    if args.out:
        _write_rows(args.out, header, rows)
        print(f"{len(rows)} predictions → {args.out}")
    else:
        print(",".join(header))
        for row in rows:
            print(",".join(row))
    return EXIT_OK


def _write_rows(path, header: list[str], rows: list[list[str]]) -> None:
    """``header`` and ``rows`` as a CSV file, written durably (a crash leaves no half file)."""
    import csv
    import io

    from honed.train.durable import atomic_write

    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write(path, text.getvalue())


def cmd_evaluate(args) -> int:
    """Error analysis of a trained run: accuracy, per-class precision / recall / F1 with the
    class names, the confusion matrix (table and figure), the most confused pairs, a grid of
    misclassified examples for image data and the decision boundary for 2-D data; for a
    regression RMSE, MAE and R² in the targets' units and a predicted-vs-true figure.

    --split picks the run's train, dev or test set (rebuilt from its config; default
    test), --data a labelled .npz (X, y) or .csv file instead. Everything is also written
    into the run directory (evaluation-SPLIT.json, confusion-SPLIT.png,
    misclassified-SPLIT.png or boundary-SPLIT.png).
    """
    from honed.experiment.bundle import load_run
    from honed.experiment.evaluate import evaluate_run
    from honed.experiment.runs import failed_reason

    run = load_run(args.run)  # a failed run without a model is refused, saying why
    failed = failed_reason(args.run)
    if failed:
        print(f"note: {failed}; evaluating the model it saved before")
    analysis, written = evaluate_run(run, split=args.split, data=args.data)
    print(analysis)
    print("\nwritten: " + ", ".join(str(p) for p in written))
    return EXIT_OK


def cmd_export(args) -> int:
    """Export a trained run for use outside honed: one ONNX graph from raw input to class
    probabilities.

    The graph holds the run's preprocessing (pixel scaling, the normalizer fit on train),
    the network in inference mode (batch norm folded into the Dense before it, dropout left
    out) and the output activation; its outputs are `probabilities` (N, C) and `label` (N,),
    and the class names are in the model's metadata. Serve it with onnxruntime (README,
    "Deploy"). A layer that ONNX cannot express is refused by name. Needs the onnx extra.
    """
    from honed.experiment.bundle import load_run
    from honed.export import OPSET, OnnxMissing, to_onnx
    from honed.train.durable import atomic_write

    try:
        proto = to_onnx(load_run(args.run))
    except OnnxMissing as err:
        print(f"honed export: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    path = atomic_write(args.out, proto.SerializeToString())
    inputs = [i.name for i in proto.graph.input]
    shown = ", ".join(inputs[:4]) + (f", ... ({len(inputs)} columns)" if len(inputs) > 4 else "")
    print(
        f"{args.run} → {path} (ONNX opset {OPSET}, {path.stat().st_size / 1024:.0f} KiB; "
        f"inputs {shown}; outputs {', '.join(o.name for o in proto.graph.output)})"
    )
    return EXIT_OK


def cmd_report(args) -> int:
    """Print a run's summary and per-epoch metrics; read-only (nothing in the run directory
    is created or changed) unless --plot redraws its curves.png from the metrics."""
    from honed.experiment.runs import failed_reason, no_summary
    from honed.train import History
    from honed.train.durable import read_json

    run = Path(args.run)
    summary_path = run / "summary.json"
    failed = failed_reason(run)
    if failed and not summary_path.is_file():
        print(f"run: {run}  status: failed\n{failed}")
        return EXIT_BAD_INPUT
    metrics = run / "metrics.jsonl"
    unfinished = not summary_path.is_file()
    if unfinished:  # killed (or still training) before its summary: show what there is
        summary = {"status": "unfinished", "message": no_summary(run)}
    else:
        summary = read_json(summary_path, "run summary")
        if failed:
            summary = {**summary, "status": "failed", "message": failed}
    records = []
    lines = [] if unfinished and not metrics.is_file() else metrics.read_text("utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(
                    f"{metrics} line {n} is damaged: not valid JSON ({err.msg})"
                ) from None
    if not isinstance(summary, dict) or "status" not in summary:
        raise ValueError(f"{summary_path} is not a honed run summary (no status)")
    if unfinished:
        summary["epoch"] = records[-1]["epoch"] if records else 0
    print(f"run: {run}  status: {summary['status']}  epochs: {summary.get('epoch')}")
    record = read_json(run / "run.json", "run record") if (run / "run.json").is_file() else {}
    if record.get("parent"):
        print(f"forked from {record['parent']['run']} at epoch {record['parent']['epoch']}")
    if summary.get("message"):
        print(summary["message"])
    if any("dev_r2" in r for r in records):  # regression: RMSE and R² of the dev set
        print(
            f"{'epoch':>5}{'train cost':>12}{'dev cost':>10}{'dev RMSE':>11}{'dev R²':>9}{'lr':>10}"
        )
        for r in records:
            cells = [("dev_cost", ".4f", 10), ("dev_rmse", ".4g", 11), ("dev_r2", ".4f", 9)]
            text = "".join(
                f"{'' if r.get(k) is None else format(r[k], f):>{w}}" for k, f, w in cells
            )
            print(f"{r['epoch']:>5}{r['train_cost']:>12.4f}{text}{r['lr']:>10.3g}")
    else:
        print(
            f"{'epoch':>5}{'train cost':>12}{'train err':>11}{'dev cost':>10}{'dev err':>9}"
            f"{'lr':>10}"
        )
        for r in records:
            dev_cost = "" if r.get("dev_cost") is None else f"{r['dev_cost']:.4f}"
            dev_err = "" if r.get("dev_error") is None else f"{r['dev_error']:.2%}"
            print(
                f"{r['epoch']:>5}{r['train_cost']:>12.4f}{r['train_error']:>11.2%}"
                f"{dev_cost:>10}{dev_err:>9}{r['lr']:>10.3g}"
            )
    errors = summary.get("errors") or {}
    if errors and all("r2" in e for e in errors.values()):
        for split, e in errors.items():
            print(
                f"final {split:<5} cost {e['cost']:.4f}  RMSE {e['rmse']:.4g}  "
                f"MAE {e['mae']:.4g}  R² {e['r2']:.4f}"
            )
    else:
        for split, e in errors.items():
            print(f"final {split:<5} cost {e['cost']:.4f}  error {e['error']:.2%}")
    if summary.get("diagnosis"):
        print(f"diagnosis: {summary['diagnosis']['verdict']}")
    if not args.plot:
        if (run / "curves.png").is_file():
            print(f"curves: {run / 'curves.png'}")
        return EXIT_OK
    try:
        from honed.plots.curves import plot_curves

        checkpoints = sorted((run / "checkpoints").glob("epoch-*.npz"))
        events = []
        if checkpoints:
            from honed.train import load_state

            events = load_state(checkpoints[-1])["history"].get("events", [])
        print(f"curves: {plot_curves(History(records, events), run / 'curves.png')}")
    except ImportError:
        pass
    return EXIT_OK


def cmd_diagnose(args) -> int:
    """Bias / variance diagnosis (the notes) and the basic recipe's next steps.

    Give a run directory, or the errors directly as fractions:
    honed diagnose --train-error 0.01 --dev-error 0.11 [--human-error 0.0]
    avoidable bias = train − human error; variance = dev − train error.
    """
    from honed.diagnose import diagnose
    from honed.experiment.runs import no_summary

    human, dataset, history, regression = args.human_error, None, None, None
    if args.run:
        from honed.train.durable import read_json

        run = Path(args.run)
        summary_path = run / "summary.json"
        if not summary_path.is_file():
            raise FileNotFoundError(
                f"{no_summary(run)}; diagnose needs its final errors (honed report {run} "
                "shows its metrics)"
            )
        summary = read_json(summary_path, "run summary")
        errors = summary.get("errors") or {}
        if "train" not in errors:
            raise ValueError(f"{args.run} has no final errors (status {summary.get('status')})")
        train, dev = errors["train"]["error"], errors["dev"]["error"]
        regression = (summary.get("diagnosis") or {}).get("reference_rmse")
        if regression:  # RMSE against the constant predictor, as at the end of training
            train, dev = errors["train"]["rmse"], errors["dev"]["rmse"]
        if (run / "config.json").exists():
            config = json.loads((run / "config.json").read_text())
            dataset = config.get("data", {}).get("dataset")
            human = config.get("human_error") if human is None else human
        if (run / "metrics.jsonl").exists():
            lines = (run / "metrics.jsonl").read_text().splitlines()
            history = [json.loads(line) for line in lines if line.strip()]
    else:
        if args.train_error is None or args.dev_error is None:
            raise ValueError("give a run directory, or both --train-error and --dev-error")
        train, dev = args.train_error, args.dev_error
    if args.run and regression:
        from honed.diagnose import diagnose_regression

        print(diagnose_regression(train, dev, regression, human, args.threshold, history))
        return EXIT_OK
    print(diagnose(train, dev, human, threshold=args.threshold, dataset=dataset, history=history))
    return EXIT_OK


def cmd_gradcheck(args) -> int:
    """Gradient check of the experiment's model on a small batch, in float64.

    The model is trained for a few steps first (so weights are not at their initial values),
    then cast to float64; dropout is switched off for the check (a random mask would change
    the cost between the two sides of the difference), batch norm stays in training mode.
    For large layers a random sample of entries per tensor is checked (--per-tensor).
    Prints the per-parameter table and the notes' verdict; exit code 4 unless "correct"
    or "check".
    """
    import numpy as np

    from honed import experiment as ex
    from honed.diagnose import gradcheck_model

    config = ex.load_config(args.experiment, ex.parse_set_options(args.set))
    data = ex.prepare_data(config)
    trainer = ex.build_trainer(config, data)
    rng = np.random.default_rng(config.seed)
    idx = rng.choice(len(data.train), size=min(args.batch, len(data.train)), replace=False)
    X, y = data.train.X[idx], data.train.y[idx]
    trainer.model.train()
    for _ in range(args.steps):  # the training step itself, penalty included
        trainer.train_step(X, y)
    result = gradcheck_model(trainer, X, y, max_per_tensor=args.per_tensor, seed=config.seed)
    print(
        f"{config.name}: batch of {len(X)}, after {args.steps} training steps; "
        "float64; dropout switched off for the check"
    )
    print(result)
    return EXIT_OK if result.verdict in ("correct", "check") else EXIT_GRADCHECK


def cmd_tune(args) -> int:
    """Tune an experiment: many models in parallel ("caviar"), stored in a resumable study.

    The [tune.space] table of the experiment maps dotted keys to distributions, each on its
    right scale: {log = [1e-4, 1e-1]} for α (uniform in log10), {one_minus_log = [0.9, 0.999]}
    for β (uniform in log10(1 − β)), {int = [50, 100]}, {uniform = [a, b]},
    {choice = [64, 128, 256]}.

    --strategy: random samples at random (the notes: not a grid), grid spans a grid of the
    same budget (to compare), zoom searches coarse to fine; these three are reproducible at
    any parallelism (the same trials at 1 or N workers). tpe (Optuna's TPE), or any Optuna
    sampler by name (cmaes, qmc, gp, ...), learns from finished trials by ask-and-tell:
    reproducible with one worker only. --pruner: successive_halving (honed's; --prune),
    median or hyperband (Optuna's); pruning decisions depend on timing with several workers.

    The study is an Optuna study (a journal file, studies/NAME.journal by default; .db or
    .sqlite for Optuna's SQLite storage): optuna.load_study reads it, `honed dashboard`
    shows it live. Running the command again continues it: completed trials are kept,
    trials cut off by a crash or Ctrl-C are run again with the same parameters and seed. A
    trial that fails or diverges is recorded and the study goes on. Resuming with another
    experiment (anything but the trial count and workers) is refused: --new-study starts a
    new study in the same file.
    """
    from honed import experiment as ex
    from honed.experiment.tuning import default_study_path, tune_experiment

    config = ex.load_config(args.experiment, ex.parse_set_options(args.set))
    path = args.study or default_study_path(config)
    study = tune_experiment(
        config,
        trials=args.trials,
        workers=args.workers,
        strategy=args.strategy,
        study_path=path,
        prune=args.pruner or (True if args.prune else None),
        executor=args.executor,
        address=args.address,
        new_study=args.new_study,
        max_members=args.max_members,
    )
    _print_study(study, top=5)
    if study.sampler.to_config().get("name") == "pbt":
        from honed.plots.lineage import plot_study_lineage

        figure = plot_study_lineage(study, Path(path).with_name(Path(path).stem + "-lineage.png"))
        if figure is not None:
            print(f"\nPBT lineage (the best trial's population): {figure}")
    print(
        f"\nstudy: {path}\nlive view: honed dashboard {path}\n"
        f"train the best: honed train {args.experiment} --from-study {path}"
    )
    return EXIT_OK


def _print_study(study, top: int = 10) -> None:
    counts = {k: v for k, v in study.summary().items() if v}
    trials = study.trials
    seconds = sum(t.duration or 0 for t in trials)
    print(
        f"study {study.name!r} in {study.storage_path}: {len(trials)} trials "
        f"({', '.join(f'{n} {s}' for s, n in counts.items())}); {seconds:.0f} s of training"
    )
    best = study.best_trials(top)
    if not best:
        return
    keys = list(study.space)
    header = f"{'#':>4} {study.value_name:>12}  " + "  ".join(f"{k:>16}" for k in keys)
    print(header)
    pbt_members = False
    for t in best:
        values = "  ".join(f"{_fmt(t.params.get(k)):>16}" for k in keys)
        print(f"{t.number:>4} {t.value:>12.4f}  {values}")
        pbt = t.user_attrs.get("pbt")
        final = pbt.get("final_params") if isinstance(pbt, dict) else None
        if isinstance(final, dict) and final != t.params:
            pbt_members = True
            ended = "  ".join(f"{_fmt(final.get(k)):>16}" for k in keys)
            print(f"{'':>4} {'ended with':>12}  {ended}")
    if pbt_members:
        print(
            "(PBT: a member starts with the first values and ends with the second, after "
            "copying a better member and perturbing; honed train --from-study trains those)"
        )


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def cmd_study(args) -> int:
    """Look at a study: `show` prints states, timing and the best trials; `report` draws
    dev error against each hyperparameter on its own scale (log axis for α, 1 − β axis for
    β), best-so-far against trial number, and for zoom studies the box of each stage
    (--html: one self-contained page with those, best-so-far over wall time, per-epoch
    curves with pruned trials marked, parameter importances and edge-of-range warnings);
    `upgrade` converts a study file in honed's old format (format 1) to an Optuna journal
    file next to it."""
    if args.action == "upgrade":
        from honed.tune import upgrade_legacy

        new = upgrade_legacy(args.path, args.out)
        print(f"upgraded: {args.path} -> {new} (the old file is unchanged)")
        return EXIT_OK
    from honed.experiment.tuning import open_study

    study = open_study(args.path, args.name)
    if args.action == "show":
        _print_study(study, top=args.top)
        failed = [t for t in study.trials if t.state in ("failed", "diverged")]
        for t in failed[:5]:
            print(
                f"trial {t.number} {t.state}: {(t.error or '').splitlines()[0] if t.error else ''}"
            )
        if args.export:
            export = Path(args.export)
            (study.export_json if export.suffix == ".json" else study.export_csv)(export)
            print(f"exported: {export}")
        return EXIT_OK
    if args.html:
        from honed.plots.study_report import write_report

        out = Path(args.out or Path(args.path).with_suffix(".html"))
        print(f"report: {write_report(study, out)}")
        return EXIT_OK
    from honed.plots.tune import plot_study

    out = Path(args.out or Path(args.path).with_suffix(".png"))
    print(f"report: {plot_study(study, out)}")
    return EXIT_OK


def cmd_lab(args) -> int:
    """The course lab: list the experiments, run one, or all of them into a gallery.

    honed lab                       list the experiments
    honed lab NAME [--seeds N]      run one: a table (mean ± sd over seeds), figures (PNG),
                                    results.json in --out/NAME, and the verdict: the
                                    course's claim checked seed by seed (paired)
    honed lab --all --out lab/      run every experiment and write lab/index.html
    A verdict is PASS, FAIL (exit 6) or INCONCLUSIVE (exit 7: the effect is within the
    seed spread; more --seeds decide). --quick runs far fewer iterations, with settings
    whose verdicts agree with the full run's; --config FILE.toml changes settings
    (examples/lab/NAME.toml holds each experiment's defaults).
    """
    from honed.lab.cli import lab_command

    return lab_command(args.name, args.seeds, args.out, args.quick, args.all, args.config)


def cmd_compare(args) -> int:
    """Compare runs: their settings (only what differs), results and overlaid curves."""
    from honed.lab.cli import compare_command

    return compare_command(args.runs, args.out)


def cmd_dashboard(args) -> int:
    """Show a study live in optuna-dashboard (the optional extra: pip install
    'honed[dashboard]'); prints the address and serves until Ctrl-C."""
    from honed.tune.dashboard import DashboardMissing, serve

    try:
        server, url = serve(args.path, host=args.host, port=args.port)
    except DashboardMissing as err:
        print(f"honed dashboard: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"optuna-dashboard on {args.path}: {url}  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return EXIT_OK


_BAD_OPTION_VALUES: set[str] = set()  # messages of refused option values: exit 1, not 2


def _option(name: str, check_value, parse=float):
    """An argparse ``type`` for the option ``name``: parse the text, then check it with
    :mod:`honed.validation` (``--trials 0``, ``--threshold nan`` are refused, exit 1)."""

    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            kind = "an integer" if parse is int else "a number"
            message = f"{name} must be {kind}, got {text!r}"
        else:
            try:
                return check_value(name, value)
            except (ValueError, TypeError) as err:
                message = str(err)
        _BAD_OPTION_VALUES.add(message)
        raise argparse.ArgumentTypeError(message)

    convert.__name__ = name.lstrip("-")
    return convert


def _executor_name(value: str) -> str:
    """``--executor``: a registered executor's name (a usage error otherwise)."""
    from honed.tune.registry import EXECUTORS

    if value not in EXECUTORS:  # a registered name or a declared alias
        raise argparse.ArgumentTypeError(
            f"invalid choice: {value!r} (choose from {', '.join(EXECUTORS.names())})"
        )
    return EXECUTORS.canonical(value)


def _executor_option(name: str):
    """``--workers``, ``--max-members`` (integers): checked by the executors' declaration
    of the option (read when the option is used: ``honed --help`` imports no tuning)."""

    def declared(n, value):
        from honed.tune.registry import EXECUTORS, general_option

        return general_option(EXECUTORS, name.lstrip("-").replace("-", "_")).validate(value, n)

    return _option(name, declared, parse=int)


def _count(name: str, minimum: int = 1):
    return _option(name, lambda n, v: check.integer(n, v, minimum=minimum), parse=int)


class _BadOptionValue(Exception):
    """An option's value was refused (main() returns exit 1 with the message)."""


class _Parser(argparse.ArgumentParser):
    """argparse with honed's exit codes: a refused option value is bad input (exit 1),
    a malformed command line is a usage error (exit 2)."""

    def error(self, message: str):
        for bad in _BAD_OPTION_VALUES:
            if bad in message:
                self.print_usage(sys.stderr)
                raise _BadOptionValue(f"{self.prog}: error: {bad}")
        super().error(message)


def command_summary(doc: str) -> str:
    """A command's line in ``honed --help``: the first sentence of its docstring, or, when
    that is over 90 characters, the sentence's head before its first ``:``, ``;`` or ``(`` (a whole
    phrase, never a line cut mid-sentence)."""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    sentence = re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0].rstrip(".")
    if len(sentence) > 90:
        head = re.split(r":\s|;\s|\s\(", sentence, maxsplit=1)[0]
        if len(head) >= 12:
            sentence = head
    return sentence + "."


#: the help of every ``--set`` option
SET_HELP = (
    "override a key of the file, e.g. train.lr=3e-4 (repeatable; honed config --keys lists them)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="honed",
        description="Train deep neural networks and improve them: tuning, regularization, optimization.",
        epilog=(
            "exit codes: 0 ok, 1 bad input (the message names the key or file), 3 training\n"
            "diverged, 4 gradient check failed, 5 tuning workers kept dying, 6 a lab verdict\n"
            "is FAIL, 7 a lab verdict is INCONCLUSIVE, 130 interrupted (resumable)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"honed {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    def add(name, func):
        p = sub.add_parser(
            name,
            help=command_summary(func.__doc__),
            description=func.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func)
        return p

    p = add("train", cmd_train)
    p.add_argument("experiment", help="experiment TOML file")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=SET_HELP,
    )
    p.add_argument(
        "--out", default="runs", help="parent directory of the run directory (default: runs)"
    )
    p.add_argument(
        "--from-study", metavar="PATH", help="use the best trial's parameters of this study"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the final status")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="every epoch line and the resolved config"
    )
    p.add_argument(
        "--log-every",
        type=int,
        metavar="N",
        help="print every N-th epoch line (train.log_every)",
    )

    p = add("config", cmd_config)
    p.add_argument("experiment", nargs="?", help="experiment TOML file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument("--keys", action="store_true", help="print the reference of every key")

    p = add("resume", cmd_resume)
    p.add_argument("run", help="run directory")
    p.add_argument("--epochs", type=_count("--epochs"), help="total number of epochs to reach")
    p.add_argument(
        "--lr",
        type=_option("--lr", check.positive),
        help="new learning rate from the resumed epoch on",
    )
    p.add_argument(
        "--from-epoch",
        type=_count("--from-epoch", 0),
        help="fork a new run directory from this epoch's checkpoint",
    )
    p.add_argument(
        "--constant-lr",
        action="store_true",
        help="with --lr: a constant rate from here on instead of the schedule's shape",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the final status")

    p = add("predict", cmd_predict)
    p.add_argument("run", help="run directory")
    p.add_argument("input", help="raw examples: .csv, .npz (X) or IDX (.idx, *-ubyte[.gz])")
    p.add_argument("--out", metavar="CSV", help="write the predictions here (default: print)")
    p.add_argument("--proba", action="store_true", help="add the class probabilities")

    p = add("evaluate", cmd_evaluate)
    p.add_argument("run", help="run directory")
    p.add_argument(
        "--split",
        default="test",
        choices=["test", "dev", "train"],
        help="which of the run's sets (default test)",
    )
    p.add_argument("--data", metavar="PATH", help="a labelled .npz (X, y) or .csv instead")

    p = add("export", cmd_export)
    p.add_argument("run", help="run directory")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="file format (onnx)")
    p.add_argument("--out", required=True, metavar="PATH", help="file to write, e.g. model.onnx")

    p = add("report", cmd_report)
    p.add_argument("run", help="run directory")
    p.add_argument(
        "--plot", action="store_true", help="redraw curves.png (the only thing report writes)"
    )

    p = add("diagnose", cmd_diagnose)
    p.add_argument("run", nargs="?", help="run directory")
    p.add_argument(
        "--train-error",
        type=_option("--train-error", check.fraction),
        help="training error as a fraction (0.01 = 1%%)",
    )
    p.add_argument(
        "--dev-error", type=_option("--dev-error", check.fraction), help="dev error as a fraction"
    )
    p.add_argument(
        "--human-error",
        type=_option("--human-error", check.fraction),
        default=None,
        help="human-level (≈ Bayes) error (default: the run's human_error, else the "
        "dataset's documented estimate, else not given)",
    )
    p.add_argument(
        "--threshold",
        type=_option("--threshold", check.fraction),
        default=0.02,
        help="a gap above this is 'high' (default 0.02)",
    )

    p = add("gradcheck", cmd_gradcheck)
    p.add_argument("experiment", help="experiment TOML file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument(
        "--batch", type=_count("--batch"), default=16, help="examples in the batch (default 16)"
    )
    p.add_argument(
        "--steps",
        type=_count("--steps", 0),
        default=3,
        help="training steps before the check (default 3)",
    )
    p.add_argument(
        "--per-tensor",
        type=_count("--per-tensor"),
        default=20,
        help="entries checked per tensor (default 20)",
    )

    p = add("tune", cmd_tune)
    p.add_argument("experiment", help="experiment TOML file with a [tune.space] table")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=SET_HELP)
    p.add_argument(
        "--trials",
        type=_count("--trials"),
        help="total trials the study should reach (default tune.trials)",
    )
    p.add_argument(
        "--workers",
        type=_executor_option("--workers"),
        help="parallel worker processes, or population threads (default: the number of cores)",
    )
    p.add_argument(
        "--strategy",
        metavar="NAME",
        help="sampler: random, grid, zoom (reproducible at any parallelism), tpe or another "
        "Optuna sampler (reproducible with 1 worker); default tune.strategy",
    )
    p.add_argument("--study", metavar="PATH", help="study file (default studies/NAME.journal)")
    p.add_argument(
        "--prune", action="store_true", help="stop poor trials early (successive halving)"
    )
    p.add_argument(
        "--pruner",
        metavar="NAME",
        help="successive_halving (honed's), median or hyperband (Optuna's)",
    )
    p.add_argument(
        "--new-study",
        action="store_true",
        help="start a new study in the file instead of resuming one of another experiment",
    )
    p.add_argument(
        "--executor",
        metavar="NAME",
        type=_executor_name,
        help="where trials run: process (local processes), inprocess, ray (several "
        "machines), population (trials that share their architecture and batch size "
        "train together) or ray_population (those populations as Ray tasks, one group a "
        "task); default tune.executor",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="Ray cluster to join with --executor ray or ray_population, e.g. HEAD_IP:6379 "
        "(default: $RAY_ADDRESS, else a local Ray)",
    )
    p.add_argument(
        "--max-members",
        metavar="N",
        type=_executor_option("--max-members"),
        help="population executors: the largest population (trials handed out at once; "
        "default tune.max_members, else all the sampler can draw)",
    )

    p = add("study", cmd_study)
    p.add_argument("action", choices=["show", "report", "upgrade"])
    p.add_argument("path", help="study file")
    p.add_argument("--name", help="study name, when the file holds several (default: newest)")
    p.add_argument("--top", type=_count("--top"), default=10, help="best trials to list (show)")
    p.add_argument(
        "--export", metavar="FILE", help="also export all trials to .csv or .json (show)"
    )
    p.add_argument("--html", action="store_true", help="report: one self-contained HTML page")
    p.add_argument(
        "--out", help="report: figure/page path (default: next to the study); upgrade: new file"
    )

    p = add("lab", cmd_lab)
    p.add_argument("name", nargs="?", help="experiment name (none: list them)")
    p.add_argument("--seeds", type=int, default=5, help="seeds per variant (default 5)")
    p.add_argument("--out", default="lab", help="output folder (default: lab)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="far fewer iterations, settings whose verdicts agree with the full run's",
    )
    p.add_argument("--all", action="store_true", help="run every experiment, write index.html")
    p.add_argument("--config", metavar="FILE", help="TOML file of settings to change")

    p = add("compare", cmd_compare)
    p.add_argument("runs", nargs="+", help="run directories")
    p.add_argument("--out", default="compare.png", help="PNG of the overlaid curves")

    p = add("dashboard", cmd_dashboard)
    p.add_argument("path", help="study file")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free one)")
    return parser


class _QuietPipe:
    """stdout that stops printing, quietly, once its reader has gone (``honed tune | head``):
    the work goes on and finishes; only the output is dropped."""

    def __init__(self, stream):
        self._stream = stream
        self.broken = False

    def _closed(self) -> None:
        self.broken = True
        try:  # later writes, including the interpreter's flush at exit, go nowhere
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, text):
        if self.broken:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._closed()
            return len(text)

    def flush(self):
        if self.broken:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._closed()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _os_error_message(err: OSError) -> str:
    from honed.train.durable import os_error_hint

    text = err.strerror or str(err)
    if err.filename is not None and str(err.filename) in text:
        return text  # already names the file and what to do (honed's durable writes)
    if err.filename is not None:
        where = f"{err.filename}" + (f" -> {err.filename2}" if err.filename2 else "")
        return f"{where}: {os_error_hint(err)}"
    return str(err)


def _files_of(args) -> str:
    """The files a command was given, to name in an error that does not name its file."""
    names = [
        str(getattr(args, k))
        for k in ("study", "path", "run", "experiment", "from_study")
        if getattr(args, k, None)
    ]
    return " or ".join(names) or "an input file"


class _one_line_warnings:  # noqa: N801 - a context manager, used like warnings.catch_warnings
    """Warnings print as one line, ``warning: ...``, without file paths or source lines;
    ``quiet`` (``-q``) silences them. Everything is restored on exit."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self._catch = None

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        self._format = warnings.formatwarning  # not restored by catch_warnings
        warnings.formatwarning = lambda message, *args, **kwargs: f"warning: {message}\n"
        if self.quiet:
            warnings.simplefilter("ignore")
        return self

    def __exit__(self, *exc):
        import warnings

        warnings.formatwarning = self._format
        return self._catch.__exit__(*exc)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``honed`` command; returns the exit code.

    The one error boundary: bad input (a bad value, a missing, unreadable, damaged or
    truncated file, a full disk, a database that is not a study) is reported in one line
    naming what is wrong, exit 1; programming errors still show their traceback.
    """
    import sqlite3
    import zipfile

    from honed.train.signals import terminate_as_interrupt

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _BadOptionValue as err:
        print(err, file=sys.stderr)
        return EXIT_BAD_INPUT
    args.argv = ["honed", *(sys.argv[1:] if argv is None else argv)]  # recorded in run.json
    stdout = sys.stdout
    sys.stdout = _QuietPipe(stdout)

    def fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
        print(f"honed {args.command}: error: {message}", file=sys.stderr)
        return code

    try:
        with terminate_as_interrupt(), _one_line_warnings(getattr(args, "quiet", False)):
            return args.func(args)
    except KeyboardInterrupt as err:
        print(f"interrupted{f' ({err})' if str(err) else ''}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except json.JSONDecodeError as err:  # a ValueError without the file's name
        return fail(f"{_files_of(args)}: damaged JSON ({err})")
    except UnicodeDecodeError as err:
        return fail(f"{_files_of(args)} is not UTF-8 text ({err.reason} at byte {err.start})")
    except (ValueError, TypeError, ConnectionError) as err:
        return fail(str(err))
    except BrokenPipeError:  # stdout closed while printing: stop quietly
        sys.stdout._closed()
        return EXIT_OK
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            return fail(_os_error_message(err) + "; every earlier checkpoint is kept")
        return fail(_os_error_message(err))
    except sqlite3.Error as err:
        return fail(f"{_files_of(args)}: SQLite error: {err} (is it a honed study, and intact?)")
    except zipfile.BadZipFile as err:
        return fail(f"{_files_of(args)}: a .npz file is damaged or truncated ({err})")
    except EOFError:
        return fail(f"{_files_of(args)}: a file ends early (truncated or empty)")
    except RuntimeError as err:
        from honed.tune import WorkersKeepDying  # commands import what they need lazily

        if not isinstance(err, WorkersKeepDying):
            raise
        return fail(str(err), EXIT_WORKERS)
    finally:
        sys.stdout.flush()
        sys.stdout = stdout


if __name__ == "__main__":
    sys.exit(main())
