"""One registry class for every name: tune's samplers, pruners and executors are
``honed.registry.Registry`` instances, registered once, with their options declared once;
things from outside honed are named in an experiment file like the built-in ones."""

import ast
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from honed import registry as honed_registry
from honed.cli import build_parser, main
from honed.experiment import load_config
from honed.experiment.config import ConfigError
from honed.experiment.tuning import open_study
from honed.tune import (
    EXECUTORS,
    PRUNERS,
    SAMPLERS,
    Executor,
    InProcessExecutor,
    PBTSampler,
    PopulationExecutor,
    ProcessExecutor,
    Pruner,
    Sampler,
    SuccessiveHalvingPruner,
    ZoomSampler,
    make_executor,
    make_pruner,
    register_executor,
    register_pruner,
    register_sampler,
)
from honed.tune.executors import WORKERS

TUNE = Path(__file__).resolve().parents[2] / "honed" / "tune"


def test_the_tune_registries_are_the_package_registry_class():
    for reg in (SAMPLERS, PRUNERS, EXECUTORS):
        assert type(reg) is honed_registry.Registry
    assert make_pruner("SH").to_config()["name"] == "successive_halving"  # case, alias
    with pytest.raises(ValueError, match="already registered"):  # no silent overwrite
        register_pruner("median", OddPruner)


# -- things from outside honed ----------------------------------------------------------------
class ThreadsExecutor(Executor):
    """Trials in threads of the driver (an executor a user might write)."""

    name = "threads"
    options = (WORKERS,)
    used = 0

    def __init__(self, workers=None):
        self.max_workers = workers or 2
        self._pool = ThreadPoolExecutor(self.max_workers)
        ThreadsExecutor.used += 1

    def submit(self, fn, *args):
        return self._pool.submit(fn, *args)

    def shutdown(self, kill=False):
        self._pool.shutdown(wait=not kill, cancel_futures=kill)


class EdgesSampler(Sampler):
    """Each parameter's low end for even trials, its high end for odd ones."""

    name = "edges"

    def sample(self, number, space, seed, history, direction="minimize"):
        return {n: d.low if number % 2 == 0 else d.high for n, d in space.items()}


class OddPruner(Pruner):
    """Prunes odd trials at epoch ``at``."""

    name = "odd"

    def __init__(self, at: int = 2):
        self.at = at

    def prune(self, number, epoch, value, peers, direction="minimize"):
        return number % 2 == 1 and epoch >= self.at

    def to_config(self):
        return {"name": self.name, "at": self.at}


@pytest.fixture
def outside():
    register_executor("threads", ThreadsExecutor)
    register_sampler("edges", EdgesSampler)
    register_pruner("odd", OddPruner)
    yield
    for reg, name in ((EXECUTORS, "threads"), (SAMPLERS, "edges"), (PRUNERS, "odd")):
        reg.unregister(name)


def test_an_executor_sampler_and_pruner_from_outside_honed_run_from_toml(tmp_path, outside):
    exp = tmp_path / "exp.toml"
    exp.write_text(
        textwrap.dedent("""
        name = "outside"
        [data]
        dataset = "moons"
        n_samples = 200
        [model]
        hidden = [4]
        [train]
        epochs = 4
        batch_size = 32
        [tune]
        trials = 4
        workers = 2
        executor = "Threads"
        strategy = "edges"
        prune = "odd"
        [tune.space]
        "train.lr" = { log = [1e-3, 1e-1] }
        """)
    )
    config = load_config(exp)
    assert (config.tune.executor, config.tune.strategy, config.tune.prune) == (
        "threads",
        "edges",
        "odd",
    )
    ThreadsExecutor.used = 0
    assert main(["tune", str(exp), "--study", str(tmp_path / "s.journal")]) == 0
    assert ThreadsExecutor.used == 1
    trials = open_study(tmp_path / "s.journal").trials
    assert [t.params["train.lr"] for t in trials] == [1e-3, 1e-1, 1e-3, 1e-1]
    assert [t.state for t in trials] == ["complete", "pruned"] * 2
    assert all(sorted(t.intermediate) == [1, 2] for t in trials[1::2])


def test_a_class_must_carry_the_name_it_is_registered_under():
    class Nameless(Sampler):
        def sample(self, number, space, seed, history, direction="minimize"):
            return {}

    with pytest.raises(ValueError, match="set name = 'nameless' on the class"):
        register_sampler("nameless", Nameless)
    assert "nameless" not in SAMPLERS


# -- options declared once -------------------------------------------------------------------
def test_make_executor_reads_the_declared_options():
    assert [o.name for o in EXECUTORS.options("population")] == ["workers", "max_members"]
    assert EXECUTORS.declaring("max_members") == ["population", "ray_population"]
    with pytest.raises(ValueError, match="max_members is for executor='population' or "):
        make_executor("process", max_members=3)
    with pytest.raises(ValueError, match="workers must be an integer >= 1, got 0"):
        make_executor("population", workers=0)
    with pytest.raises(ValueError, match="the inprocess executor runs 1 worker"):
        make_executor("inprocess", workers=2)
    assert isinstance(make_executor("In_Process"), InProcessExecutor)


def test_registry_option_finds_one_declaration_of_one_thing():
    reg = honed_registry.Registry("executor")
    workers = honed_registry.Option("workers", "int", 2)
    reg.register("pool", object(), aliases=("many",), options=(workers,))
    reg.register("bare", object())
    assert reg.option("pool", "workers") is workers and reg.option("Many", "workers") is workers
    with pytest.raises(
        ValueError, match=r"executor 'pool' declares no option 'address' \(it declares: workers\)"
    ):
        reg.option("pool", "address")
    with pytest.raises(
        ValueError, match=r"executor 'bare' declares no option 'workers' \(it declares: nothing\)"
    ):
        reg.option("bare", "workers")
    with pytest.raises(ValueError, match="unknown executor 'nope'"):
        reg.option("nope", "workers")
    assert EXECUTORS.option("population", "max_members").name == "max_members"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: SuccessiveHalvingPruner(min_trials=0),
            "min_trials must be an integer >= 1, got 0",
        ),
        (lambda: ZoomSampler(top_k=1.5), "top_k must be an integer, got 1.5"),
        (lambda: PBTSampler(fraction=0.6), r"pbt: fraction must be in \(0, 0.5\], got 0.6"),
        (lambda: PBTSampler(every=0), "pbt: every must be an integer >= 1, got 0"),
        (lambda: PopulationExecutor(max_members=0), "max_members must be an integer >= 1, got 0"),
        (lambda: ProcessExecutor(workers=0), "workers must be an integer >= 1, got 0"),
        (lambda: ProcessExecutor(resubmits=-1), "resubmits must be an integer >= 0, got -1"),
    ],
)
def test_constructors_check_values_by_the_declared_options(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_validate_declared_keeps_none_and_normalises():
    opts = (honed_registry.Option("n", "int", None, lambda p, v: int(v)),)
    assert honed_registry.validate_declared(opts, n=None) == (None,)
    assert honed_registry.validate_declared(opts, n=3.0) == (3,)


def test_general_option_reads_the_first_declaration():
    from honed.tune.registry import general_option

    reg = honed_registry.Registry("executor")
    general = honed_registry.Option("workers", "int", None)
    reg.register("a", object(), options=(general,))
    reg.register("b", object(), options=(honed_registry.Option("workers", "int", 1),))
    assert general_option(reg, "workers") is general
    with pytest.raises(ValueError, match="no executor declares the option 'address'"):
        general_option(reg, "address")


def test_config_and_command_line_check_options_by_the_declaration(tmp_path, capsys):
    exp = tmp_path / "exp.toml"
    exp.write_text('[tune]\nmax_members = 0\n[tune.space]\n"train.lr" = {log = [1e-3, 1e-1]}\n')
    with pytest.raises(ValueError, match="tune.max_members must be an integer >= 1, got 0"):
        load_config(exp)
    exp.write_text('[tune]\npbt_fraction = 0.9\n[tune.space]\n"train.lr" = {log = [1e-3, 1]}\n')
    with pytest.raises(ValueError, match=r"tune.pbt_fraction must be .*0\.5.*got 0\.9"):
        load_config(exp)
    assert main(["tune", str(exp), "--workers", "0"]) == 1
    assert "--workers must be an integer >= 1, got 0" in capsys.readouterr().err


# -- the command line accepts exactly the registry's names and aliases -----------------------
def test_cli_executor_names_are_exactly_the_registry_names_and_aliases():
    parser = build_parser()

    def accepted(name):
        try:
            return parser.parse_args(["tune", "x.toml", "--executor", name]).executor
        except SystemExit:
            return None

    declared = {**{n: n for n in EXECUTORS.names()}, **EXECUTORS.aliases()}
    assert declared["in_process"] == "inprocess"
    for name, canonical in declared.items():
        assert accepted(name) == canonical
        assert accepted(name.upper()) == canonical  # names are case-insensitive
        assert load_config_with(executor=name).tune.executor == canonical
    for name in ("local", "threads", "in-process"):  # not declared: refused everywhere
        assert accepted(name) is None
        with pytest.raises(ValueError, match="executor"):
            make_executor(name)
        with pytest.raises(ConfigError, match="tune.executor"):
            load_config_with(executor=name)


def load_config_with(**tune):
    from honed.experiment.config import resolve_config

    return resolve_config({"tune": tune})


# -- no import circles inside honed.tune -----------------------------------------------------
def test_no_import_circles_in_tune():
    """Every import between honed.tune's modules (module level or inside a function) goes
    one way: the graph has no cycle."""
    graph: dict[str, set[str]] = {}
    for path in TUNE.glob("*.py"):
        if path.stem == "__init__":
            continue
        deps = graph.setdefault(path.stem, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1:
                    names = [node.module] if node.module else [a.name for a in node.names]
                elif node.module and node.module.startswith("honed.tune."):
                    names = [node.module.removeprefix("honed.tune.")]
                elif node.module == "honed.tune":
                    names = ["__init__"]
                else:
                    continue
                deps.update(n.split(".")[0] for n in names)
    deps_of_init = {"__init__"}
    for stem, deps in graph.items():
        assert not deps & deps_of_init, f"{stem} imports the package honed.tune itself"

    def visit(stem, trail):
        assert stem not in trail, "import circle: " + " -> ".join([*trail, stem])
        for dep in sorted(graph.get(stem, ())):
            visit(dep, [*trail, stem])

    for stem in sorted(graph):
        visit(stem, [])
