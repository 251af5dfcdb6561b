"""The ``honed`` command line: one function per command; its docstring is its help.

    honed train EXP.toml [--set train.lr=3e-4 ...] [--out runs/] [-q | -v] [--log-every N]
    honed config EXP.toml [--set ...] | honed config --keys
    honed resume RUN [--epochs N] [--lr X [--constant-lr]] [--from-epoch E]
    honed predict RUN INPUT [--out preds.csv] [--proba]
    honed evaluate RUN [--split test|dev|train] [--data PATH]
    honed report RUN
    honed diagnose RUN | --train-error 0.01 --dev-error 0.11 [--human-error 0.0]
    honed gradcheck EXP.toml
    honed tune EXP.toml [--trials N] [--workers W] [--strategy random|grid|zoom|tpe] [--study PATH]
               [--prune | --pruner median|hyperband] [--new-study] [--executor ray --address A]
    honed study show PATH | honed study report PATH [--html] | honed study upgrade PATH
    honed dashboard PATH [--port 8080]
    honed lab [NAME] [--seeds N] [--out DIR] [--quick] | honed lab --all --out lab/
    honed compare RUN RUN ... [--out compare.png]

Exit codes: 0 success, 1 bad input, 2 usage, 3 training diverged, 4 gradient check failed,
5 tuning workers kept dying (the study stops; running it again resumes it), 6 a lab verdict
was FAIL, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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
        from honed.experiment.tuning import best_trial_for

        # the study must be this experiment's (its tuned keys aside)
        study, best = best_trial_for(args.from_study, ex.load_config(args.experiment, overrides))
        params = dict(best.params)
        study_info = {
            "path": str(args.from_study),
            "study": study.name,
            "trial": best.number,
            "value": best.value,
            "params": params,
        }
        print(
            f"from study {study.name!r}: trial #{best.number} (dev error {best.value:.4g}): "
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
    refused with the shape the run expects.
    """
    import numpy as np

    from honed.experiment.bundle import load_run

    run = load_run(args.run)
    X = _read_input(Path(args.input))
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
        import csv

        with open(args.out, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
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


def cmd_evaluate(args) -> int:
    """Error analysis of a trained run: accuracy, per-class precision / recall / F1 with the
    class names, the confusion matrix (table and figure), the most confused pairs, a grid of
    misclassified examples for image data and the decision boundary for 2-D data.

    --split picks the run's train, dev or test set (rebuilt from its config; default
    test), --data a labelled .npz (X, y) or .csv file instead. Everything is also written
    into the run directory (evaluation-SPLIT.json, confusion-SPLIT.png,
    misclassified-SPLIT.png or boundary-SPLIT.png).
    """
    from honed.experiment.bundle import load_run
    from honed.experiment.evaluate import evaluate_run

    run = load_run(args.run)
    analysis, written = evaluate_run(run, split=args.split, data=args.data)
    print(analysis)
    print("\nwritten: " + ", ".join(str(p) for p in written))
    return EXIT_OK


def cmd_report(args) -> int:
    """Print a run's summary and redraw its curves.png from its metrics."""
    from honed.train import History

    run = Path(args.run)
    summary_path = run / "summary.json"
    if not summary_path.exists():
        raise FileNotFoundError(f"{run} has no summary.json (is it a run directory?)")
    summary = json.loads(summary_path.read_text())
    records = [
        json.loads(line)
        for line in (run / "metrics.jsonl").read_text().splitlines()
        if line.strip()
    ]
    print(f"run: {run}  status: {summary['status']}  epochs: {summary['epoch']}")
    record = json.loads((run / "run.json").read_text()) if (run / "run.json").exists() else {}
    if record.get("parent"):
        print(f"forked from {record['parent']['run']} at epoch {record['parent']['epoch']}")
    if summary.get("message"):
        print(summary["message"])
    print(
        f"{'epoch':>5}{'train cost':>12}{'train err':>11}{'dev cost':>10}{'dev err':>9}{'lr':>10}"
    )
    for r in records:
        dev_cost = "" if r.get("dev_cost") is None else f"{r['dev_cost']:.4f}"
        dev_err = "" if r.get("dev_error") is None else f"{r['dev_error']:.2%}"
        print(
            f"{r['epoch']:>5}{r['train_cost']:>12.4f}{r['train_error']:>11.2%}{dev_cost:>10}{dev_err:>9}{r['lr']:>10.3g}"
        )
    for split, e in (summary.get("errors") or {}).items():
        print(f"final {split:<5} cost {e['cost']:.4f}  error {e['error']:.2%}")
    if summary.get("diagnosis"):
        print(f"diagnosis: {summary['diagnosis']['verdict']}")
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

    human, dataset, history = args.human_error, None, None
    if args.run:
        run = Path(args.run)
        summary = json.loads((run / "summary.json").read_text())
        errors = summary.get("errors") or {}
        if "train" not in errors:
            raise ValueError(f"{args.run} has no final errors (status {summary.get('status')})")
        train, dev = errors["train"]["error"], errors["dev"]["error"]
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
    )
    _print_study(study, top=5)
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
    header = f"{'#':>4} {'dev error':>10}  " + "  ".join(f"{k:>16}" for k in keys)
    print(header)
    for t in best:
        values = "  ".join(f"{_fmt(t.params.get(k)):>16}" for k in keys)
        print(f"{t.number:>4} {t.value:>10.4f}  {values}")


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
                                    course's claim checked against the measurements
    honed lab --all --out lab/      run every experiment and write lab/index.html
    --quick runs far fewer iterations (what the test suite runs); --config FILE.toml
    changes settings (examples/lab/NAME.toml holds each experiment's defaults).
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="honed",
        description="Train deep neural networks and improve them: tuning, regularization, optimization.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func):
        p = sub.add_parser(
            name,
            help=func.__doc__.splitlines()[0],
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
        help="override a key, e.g. train.lr=3e-4",
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
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--keys", action="store_true", help="print the reference of every key")

    p = add("resume", cmd_resume)
    p.add_argument("run", help="run directory")
    p.add_argument("--epochs", type=int, help="total number of epochs to reach")
    p.add_argument("--lr", type=float, help="new learning rate from the resumed epoch on")
    p.add_argument(
        "--from-epoch", type=int, help="fork a new run directory from this epoch's checkpoint"
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

    p = add("report", cmd_report)
    p.add_argument("run", help="run directory")

    p = add("diagnose", cmd_diagnose)
    p.add_argument("run", nargs="?", help="run directory")
    p.add_argument("--train-error", type=float, help="training error as a fraction (0.01 = 1%%)")
    p.add_argument("--dev-error", type=float, help="dev error as a fraction")
    p.add_argument(
        "--human-error",
        type=float,
        default=None,
        help="human-level (≈ Bayes) error (default: the run's human_error, else the "
        "dataset's documented estimate, else not given)",
    )
    p.add_argument(
        "--threshold", type=float, default=0.02, help="a gap above this is 'high' (default 0.02)"
    )

    p = add("gradcheck", cmd_gradcheck)
    p.add_argument("experiment", help="experiment TOML file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--batch", type=int, default=16, help="examples in the batch (default 16)")
    p.add_argument(
        "--steps", type=int, default=3, help="training steps before the check (default 3)"
    )
    p.add_argument(
        "--per-tensor", type=int, default=20, help="entries checked per tensor (default 20)"
    )

    p = add("tune", cmd_tune)
    p.add_argument("experiment", help="experiment TOML file with a [tune.space] table")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--trials", type=int, help="total trials the study should reach (default tune.trials)"
    )
    p.add_argument(
        "--workers", type=int, help="parallel worker processes (default: the number of cores)"
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
        choices=["process", "inprocess", "ray"],
        default="process",
        help="where trials run (default: local processes; ray for several machines)",
    )
    p.add_argument(
        "--address",
        metavar="ADDR",
        help="Ray cluster to join with --executor ray, e.g. HEAD_IP:6379 "
        "(default: $RAY_ADDRESS, else a local Ray)",
    )

    p = add("study", cmd_study)
    p.add_argument("action", choices=["show", "report", "upgrade"])
    p.add_argument("path", help="study file")
    p.add_argument("--name", help="study name, when the file holds several (default: newest)")
    p.add_argument("--top", type=int, default=10, help="best trials to list (show)")
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
    p.add_argument("--quick", action="store_true", help="far fewer iterations")
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``honed`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = ["honed", *(sys.argv[1:] if argv is None else argv)]  # recorded in run.json
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, FileNotFoundError, ConnectionError) as err:
        print(f"honed {args.command}: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as err:
        from honed.tune import WorkersKeepDying  # commands import what they need lazily

        if not isinstance(err, WorkersKeepDying):
            raise
        print(f"honed {args.command}: error: {err}", file=sys.stderr)
        return EXIT_WORKERS


if __name__ == "__main__":
    sys.exit(main())
