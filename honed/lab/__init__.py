"""The course lab: every experiment of the notes as one command, with a verdict.

Each experiment is a module with the course's claim in its docstring, the notes' settings as
``DEFAULTS``, a lighter ``QUICK`` form, and ``run(seeds, quick, **overrides) -> LabResult``
whose verdict is computed from what was measured::

    from honed import lab
    result = lab.run("init", seeds=5)
    print(result.text())            # table (mean ± sd over seeds), PASS/FAIL/INCONCLUSIVE
    result.save("lab/init")         # results.json and the figures (PNG)

``honed lab`` lists them, ``honed lab NAME`` runs one, ``honed lab --all --out lab/`` writes
the gallery ``lab/index.html``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from honed.lab.base import FAIL, INCONCLUSIVE, PASS, LabResult, Verdict, mean_sd

#: experiment name -> module (imported when first used)
EXPERIMENTS = {
    "init": "honed.lab.init",
    "regularization": "honed.lab.regularization",
    "optimizers": "honed.lab.optimizers",
    "gradcheck": "honed.lab.gradcheck",
    "batchnorm": "honed.lab.batchnorm",
    "ewma": "honed.lab.ewma",
    "lr-decay": "honed.lab.lr_decay",
    "random-vs-grid": "honed.lab.random_vs_grid",
    "scales": "honed.lab.scales",
    "activations": "honed.lab.activations",
    "bias-variance": "honed.lab.bias_variance",
    "xor": "honed.lab.xor",
    "saddle": "honed.lab.saddle",
    "softmax": "honed.lab.softmax",
}


def names() -> list[str]:
    return list(EXPERIMENTS)


def get(name: str) -> ModuleType:
    """The experiment's module; ValueError naming the known ones for an unknown name."""
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {', '.join(EXPERIMENTS)}, got {name!r}")
    return importlib.import_module(EXPERIMENTS[name])


def run(name: str, seeds=5, quick: bool = False, **overrides) -> LabResult:
    """Run one experiment; BLAS is kept to one thread (these matrices are small, and on a
    shared machine extra BLAS threads made a step up to 17× slower)."""
    module = get(name)
    unknown = sorted(set(overrides) - set(module.DEFAULTS))
    if unknown:
        raise ValueError(
            f"{name} has no setting {unknown[0]!r}; its settings are {', '.join(module.DEFAULTS)}"
        )
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is in the test and tune extras
        result = module.run(seeds=seeds, quick=quick, **overrides)
        result.quick = bool(quick)
        return result
    with threadpool_limits(limits=1, user_api="blas"):
        result = module.run(seeds=seeds, quick=quick, **overrides)
    result.quick = bool(quick)
    return result


def load_settings(path) -> dict:
    """Overrides from a TOML file (e.g. ``examples/lab/init.toml``): ``{setting: value}``."""
    import tomllib
    from pathlib import Path

    with open(Path(path), "rb") as f:
        return tomllib.load(f)


def summary(name: str) -> str:
    """The first line of the experiment's docstring (its claim, briefly)."""
    doc = get(name).__doc__ or ""
    return doc.strip().splitlines()[0].split(":", 1)[-1].strip()


__all__ = [
    "EXPERIMENTS",
    "FAIL",
    "INCONCLUSIVE",
    "PASS",
    "LabResult",
    "Verdict",
    "get",
    "load_settings",
    "mean_sd",
    "names",
    "run",
    "summary",
]
