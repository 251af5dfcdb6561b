"""What storing per-epoch values costs a study: ``honed tune`` on many short moons trials.

64 trials x 300 epochs of a small moons network (``[2, 5, 2, 1]`` ReLU, Adam, batch 64, α
log-uniform in [1e-3, 1e-1]), random search, no pruner. Every trial reports its dev error
after each epoch: 19 200 values, which the study stores in batches (one journal append or
one SQLite transaction per flush, at least once a second). Timed, each in a fresh process
(data preparation included, interpreter start-up not), in one run:

* ``sequential``: the in-process executor, one trial after the other (journal); and again
  with BLAS at one thread (``sequential 1 BLAS``: on a busy machine BLAS threads fighting
  over the cores for these tiny matrices slow the in-process trials several-fold);
* ``population``: the population executor (journal), and again on a ``.sqlite`` study;
* ``bare``: a bare ``PopulationTrainer`` on the same 64 members (the population run's
  trials, built as the population executor builds them), no study at all;
* ``process2``: the process executor with 2 workers (journal).

With ``--before PATH`` (another checkout of honed, e.g. ``git worktree add /tmp/before
main``) the study variants run on that code too, in the same run, so before and after are
side by side.

    python benchmarks/study_reports.py [--trials 64] [--epochs 300] [--before /tmp/before]
    python benchmarks/study_reports.py --storage-only   # µs per stored value, no training
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EXPERIMENT = """
name = "moons_reports"
seed = 0
[data]
dataset = "moons"
n_samples = 1000
noise = 0.2
[model]
hidden = [5, 2]
activation = "relu"
[train]
optimizer = "adam"
batch_size = 64
epochs = {epochs}
[tune]
trials = {trials}
[tune.space]
"train.lr" = {{ log = [1e-3, 1e-1] }}
"""

#: BLAS at one thread (the process executor's workers run so): what a trial costs when
#: BLAS threads do not fight over the cores for the tiny matrices of this network
ONE_THREAD = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

VARIANTS = {
    # name: (executor, workers, study suffix)
    "sequential": ("inprocess", None, ".journal"),
    "sequential 1 BLAS": ("inprocess", None, ".journal"),
    "population": ("population", None, ".journal"),
    "population sqlite": ("population", None, ".sqlite"),
    "process2": ("process", 2, ".journal"),
}


def run_variant(exp: str, executor: str, workers, study: str) -> None:
    """(In the child process.) Tune the experiment; print the wall time as JSON."""
    from honed import experiment as ex
    from honed.experiment.tuning import tune_experiment

    config = ex.load_config(exp)
    t0 = time.perf_counter()
    tune_experiment(config, workers=workers, executor=executor, study_path=study, progress=False)
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def run_bare(exp: str, study: str) -> None:
    """(In the child process.) Train the study's trials as one bare population."""
    from honed import experiment as ex
    from honed.experiment.build import build_augmentation
    from honed.experiment.population_tuning import architecture, member
    from honed.experiment.tuning import _data_for, open_study, trial_config
    from honed.population import Population, PopulationTrainer

    config = ex.load_config(exp)
    trials = open_study(study).trials
    t0 = time.perf_counter()
    data = _data_for(config)
    configs = [trial_config(config, t.params, seed=t.seed) for t in trials]
    pop = Population(
        architecture(configs[0], data), [member(c, t.seed) for c, t in zip(configs, trials)]
    )
    base = configs[0]  # built as population_tuning._train builds it, without the study
    es = base.train.early_stopping or None
    trainer = PopulationTrainer(
        pop,
        augment=build_augmentation(base, data.image_shape, data.normalizer),
        loss=base.train.loss_name(base.model.output),
        batch_size=int(base.train.batch_size),
        common_order=False,
        patience=es["patience"] if es else None,
        min_delta=es["min_delta"] if es else 0.0,
        monitor=es["monitor"] if es else "dev_error",
    )
    trainer.fit(data.train, data.dev, epochs=config.train.epochs)
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def storage_only(d: Path, trials: int = 64, epochs: int = 5) -> None:
    """Microseconds per stored value: written one by one, or one batch per epoch."""
    from honed.tune.space import SearchSpace
    from honed.tune.storage import StudyStorage

    space = SearchSpace.from_config({"x": {"uniform": [0, 1]}})

    def setup(path):
        st = StudyStorage(path)
        row = st.create_study("s", "minimize", space.to_json(), {"name": "random"}, 0)
        return st, [st.create_trial(row["id"], {"x": 0.5}, space, k)[0] for k in range(trials)]

    for suffix in (".journal", ".sqlite"):
        st, ids = setup(d / f"one{suffix}")
        t0 = time.perf_counter()
        for e in range(epochs):
            for tid in ids:
                st.report(tid, e, 0.5)  # outside batched_reports: written at once
        one = (time.perf_counter() - t0) / (epochs * trials)
        st, ids = setup(d / f"batch{suffix}")
        t0 = time.perf_counter()
        with st.batched_reports(interval=3600):
            for e in range(epochs):
                for tid in ids:
                    st.report(tid, e, 0.5)
                st.flush_reports()
        batch = (time.perf_counter() - t0) / (epochs * trials)
        print(
            f"{suffix:9s} one write per value {one * 1e6:7.0f} µs/value; one write per epoch "
            f"of {trials} trials {batch * 1e6:6.0f} µs/value ({one / batch:.0f}×)"
        )


def child(code: Path, args: list[str], env: dict | None = None) -> float:
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(code)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--before", type=Path, help="another honed checkout: its code, same run")
    ap.add_argument("--skip", nargs="*", default=[], help="variants not to run")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument(
        "--storage-only", action="store_true", help="only µs per stored value, no training"
    )
    args = ap.parse_args()
    if args.storage_only:
        storage_only(Path(tempfile.mkdtemp(prefix="honed-storage-")))
        return
    if args.child:
        kind, *rest = args.child
        if kind == "bare":
            run_bare(*rest)
        else:
            executor, workers, study, exp = rest
            run_variant(exp, executor, None if workers == "-" else int(workers), study)
        return

    tmp = Path(tempfile.mkdtemp(prefix="honed-reports-"))
    exp = tmp / "moons.toml"
    exp.write_text(textwrap.dedent(EXPERIMENT.format(epochs=args.epochs, trials=args.trials)))
    codes = [("after", ROOT)] + ([("before", args.before.resolve())] if args.before else [])
    rows: dict[tuple[str, str], float] = {}
    for name, (executor, workers, suffix) in VARIANTS.items():
        if name in args.skip:
            continue
        for label, code in codes:
            study = tmp / f"{label}-{name.replace(' ', '-')}{suffix}"
            w = "-" if workers is None else str(workers)
            env = ONE_THREAD if "1 BLAS" in name else None
            rows[(name, label)] = child(code, ["run", executor, w, str(study), str(exp)], env)
            print(f"{name:18s} {label:6s} {rows[(name, label)]:7.2f} s", flush=True)
    if "bare" not in args.skip and ("population", "after") in rows:
        study = tmp / "after-population.journal"
        rows[("bare", "after")] = child(ROOT, ["bare", str(exp), str(study)])
        print(f"{'bare':18s} {'':6s} {rows[('bare', 'after')]:7.2f} s", flush=True)

    print(f"\n{args.trials} moons trials x {args.epochs} epochs, cores: {os.cpu_count()}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"{'variant':18s} {'code':6s} {'wall s':>7s} {'/ seq':>6s} {'/ bare':>6s}")
    for (name, label), s in rows.items():
        seq = rows.get(("sequential", label if name != "bare" else "after"))
        bare = rows.get(("bare", "after"))
        ratio = f"{s / seq:6.2f}" if seq else "     -"
        vs_bare = f"{s / bare:6.2f}" if bare else "     -"
        print(f"{name:18s} {label:6s} {s:7.2f} {ratio} {vs_bare}")


if __name__ == "__main__":
    main()
