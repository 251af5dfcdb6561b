"""The ``honed`` command line: one function per command; its docstring is its help.

    honed train EXP.toml [--set train.lr=3e-4 ...] [--out runs/]
    honed resume RUN [--epochs N] [--lr X] [--from-epoch E]
    honed report RUN
    honed diagnose RUN | --train-error 0.01 --dev-error 0.11 [--human-error 0.0]
    honed gradcheck EXP.toml
    honed tune EXP.toml [--trials N] [--workers W] [--strategy random|grid|zoom|tpe] [--study PATH]
               [--prune | --pruner median|hyperband] [--new-study]
    honed study show PATH | honed study report PATH [--html] | honed study upgrade PATH
    honed dashboard PATH [--port 8080]

Exit codes: 0 success, 1 bad input, 2 usage, 3 training diverged, 4 gradient check failed,
5 tuning workers kept dying (the study stops; running it again resumes it), 130 interrupted.
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


def cmd_train(args) -> int:
    """Train the experiment described by a TOML file and write a run directory.

    The run directory (under --out) gets the resolved config, per-epoch metrics,
    checkpoints, curves.png, the final model and summary.json; the final train/dev/test
    errors and the bias/variance verdict are printed at the end. --set overrides any key of
    the file (e.g. --set train.lr=3e-4 --set model.hidden=[128,128]). --from-study trains
    the best configuration found by `honed tune`.
    """
    from honed import experiment as ex
    from honed.runs import train_experiment

    overrides = ex.parse_set_options(args.set)
    used = None
    if args.from_study:
        from honed.tuning import best_trial_for

        # the study must be this experiment's (its tuned keys aside)
        study, best = best_trial_for(args.from_study, ex.load_config(args.experiment, overrides))
        used = {"study": str(args.from_study), "name": study.name, "trial": best.number}
        used.update(value=best.value, params=dict(best.params))
        print(
            f"from study {study.name!r}: trial #{best.number} (dev error {best.value:.4g}): "
            + ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in best.params.items()
            )
        )
        overrides = {**best.params, **overrides}
    config = ex.load_config(args.experiment, overrides)
    result = train_experiment(config, out=args.out, verbose=0 if args.quiet else 1)
    if used is not None and result.run_dir is not None:  # the run says where it came from
        (Path(result.run_dir) / "from_study.json").write_text(json.dumps(used, indent=1))
    if args.quiet:
        print(
            f"{result.status}: {result.run_dir}"
            + (f" — {result.message}" if result.message else "")
        )
    return _status_code(result)


def cmd_resume(args) -> int:
    """Continue a run from its last checkpoint (or --from-epoch), the notes' "panda" way.

    --epochs sets the total number of epochs to reach; --lr changes the learning rate from
    the resumed epoch on (recorded in the history and marked on curves.png). A run killed at
    any point continues exactly as if it had never stopped.
    """
    from honed.runs import resume_run

    result = resume_run(
        args.run,
        epochs=args.epochs,
        lr=args.lr,
        from_epoch=args.from_epoch,
        verbose=0 if args.quiet else 1,
    )
    return _status_code(result)


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

    if args.run:
        summary = json.loads((Path(args.run) / "summary.json").read_text())
        errors = summary.get("errors") or {}
        if "train" not in errors:
            raise ValueError(f"{args.run} has no final errors (status {summary.get('status')})")
        train, dev = errors["train"]["error"], errors["dev"]["error"]
    else:
        if args.train_error is None or args.dev_error is None:
            raise ValueError("give a run directory, or both --train-error and --dev-error")
        train, dev = args.train_error, args.dev_error
    print(diagnose(train, dev, args.human_error, threshold=args.threshold))
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
    from honed.autograd import Tensor
    from honed.diagnose import gradcheck_model

    config = ex.load_config(args.experiment, ex.parse_set_options(args.set))
    data = ex.prepare_data(config)
    trainer = ex.build_trainer(config, data)
    rng = np.random.default_rng(config["seed"])
    idx = rng.choice(len(data.train), size=min(args.batch, len(data.train)), replace=False)
    X, y = data.train.X[idx], data.train.y[idx]
    model = trainer.model
    model.train()
    for _ in range(args.steps):
        cost = trainer.loss_fn(model(Tensor(X)), y)
        trainer.optimizer.minimize(cost)
    result = gradcheck_model(
        model,
        X,
        y,
        trainer.loss_fn,
        l1=trainer.l1,
        l2=trainer.l2,
        max_per_tensor=args.per_tensor,
        seed=config["seed"],
    )
    print(
        f"{config['name']}: batch of {len(X)}, after {args.steps} training steps; "
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
    from honed.tuning import default_study_path, tune_experiment

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
    from honed.tuning import open_study

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
    p.add_argument("--quiet", action="store_true", help="print only the final status")

    p = add("resume", cmd_resume)
    p.add_argument("run", help="run directory")
    p.add_argument("--epochs", type=int, help="total number of epochs to reach")
    p.add_argument("--lr", type=float, help="new learning rate from the resumed epoch on")
    p.add_argument("--from-epoch", type=int, help="roll back to this epoch's checkpoint")
    p.add_argument("--quiet", action="store_true")

    p = add("report", cmd_report)
    p.add_argument("run", help="run directory")

    p = add("diagnose", cmd_diagnose)
    p.add_argument("run", nargs="?", help="run directory")
    p.add_argument("--train-error", type=float, help="training error as a fraction (0.01 = 1%%)")
    p.add_argument("--dev-error", type=float, help="dev error as a fraction")
    p.add_argument(
        "--human-error", type=float, default=0.0, help="human-level (≈ Bayes) error (default 0)"
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

    p = add("dashboard", cmd_dashboard)
    p.add_argument("path", help="study file")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free one)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``honed`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, FileNotFoundError) as err:
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
