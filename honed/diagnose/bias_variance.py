"""Bias / variance diagnosis from train and dev error, and the notes' basic recipe.

    avoidable bias = train error − human-level (≈ Bayes) error
    variance       = dev error − train error

The notes' four cases (human error ≈ 0 %):

    train 1 %,  dev 11 %  → high variance
    train 15 %, dev 16 %  → high bias
    train 15 %, dev 30 %  → high bias and high variance
    train 0.5 %, dev 1 %  → low bias and low variance

A gap counts as "high" when it exceeds ``threshold`` (default 2 percentage points).

**Human-level error.** When it is not given (``None``) the verdict says so and uses a
documented estimate where the dataset has one (:data:`HUMAN_LEVEL`); otherwise avoidable bias
is measured against 0 %, an upper bound on it.

**Below human level.** Human-level error stands in for Bayes error only while the model is
worse than humans (the notes: "human-level error as a proxy for Bayes error"). When the
training error is *below* the human estimate, the estimate is evidently above Bayes error
and no avoidable bias can be measured against it — the notes: past human-level performance
the bias tools become less clear. The avoidable bias is then counted (and printed) as 0, with
how far below the estimate the training error is; ``avoidable_bias`` keeps the raw, negative
difference.

**Ranking.** The recipe starts with the larger of the two gaps (avoidable bias counted as
``max(train − human, 0)``; a tie goes to bias, as the notes fix bias first).

With ``history`` (per-epoch records) the verdict also reads the curves
(:func:`honed.diagnose.curves.read_curves`): still improving, unstable cost, overfitting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from honed import validation as check
from honed.diagnose.curves import CurveFinding, read_curves

#: Documented human-level error estimates by dataset name: ``(error, source)``.
#:
#: Fashion-MNIST: the benchmark table of the dataset's repository
#: (https://github.com/zalandoresearch/fashion-mnist, README, "Benchmark") lists "Human
#: Performance: crowd-sourced evaluation of human (with no fashion expertise) performance.
#: 1000 randomly sampled test images, 3 labels per image, majority labelling" at accuracy
#: 0.835, i.e. 16.5 % error. It is a table entry of that README, not a result of the paper
#: (Xiao, Rasul, Vollgraf 2017, arXiv:1708.07747); non-experts on 28×28 thumbnails, so it is
#: far above Bayes error (models reach < 10 %).
HUMAN_LEVEL: dict[str, tuple[float, str]] = {
    "fashion_mnist": (
        0.165,
        "crowd-sourced non-expert labels of 1000 test images, accuracy 83.5 % "
        "(zalandoresearch/fashion-mnist README, benchmark table)",
    ),
}
RECIPE_BIAS = [
    "bigger network (more hidden units or layers)",
    "train longer, or a better optimizer (Momentum, RMSprop, Adam)",
    "another architecture / hyperparameter search",
]
RECIPE_VARIANCE = [
    "more data (or data augmentation)",
    "regularization (L2, dropout, early stopping)",
    "another architecture / hyperparameter search",
]


@dataclass
class Diagnosis:
    """The verdict with its numbers, where human-level came from, what the curves say, and
    the next steps of the basic recipe (the larger gap's first)."""

    train_error: float
    dev_error: float
    human_error: float
    avoidable_bias: float
    variance: float
    high_bias: bool
    high_variance: bool
    next_steps: list[str] = field(default_factory=list)
    human_source: str = "given"
    findings: list[CurveFinding] = field(default_factory=list)
    #: "error" (fractions, shown in %) or "relative RMSE" (regression: RMSE / RMSE of the
    #: constant predictor, see :func:`diagnose_regression`)
    metric: str = "error"
    reference: str = ""
    #: regression: σ, the RMSE of the constant predictor the errors are divided by
    reference_rmse: float | None = None

    def _fmt(self, value: float, signed: bool = False) -> str:
        if self.metric == "error":
            return f"{value:+.2%}" if signed else f"{value:.2%}"
        return f"{value:+.3f}" if signed else f"{value:.3f}"

    @property
    def verdict(self) -> str:
        if self.high_bias and self.high_variance:
            return "high bias and high variance"
        if self.high_bias:
            return "high bias"
        if self.high_variance:
            return "high variance"
        return "low bias and low variance"

    @property
    def below_human(self) -> bool:
        return self.avoidable_bias < 0

    @property
    def larger_gap(self) -> str:
        """ "avoidable bias" or "variance": where the recipe starts."""
        return "avoidable bias" if max(self.avoidable_bias, 0.0) >= self.variance else "variance"

    def __str__(self) -> str:
        fmt = self._fmt
        name = "error" if self.metric == "error" else self.metric
        lines = [f"errors: {self.reference}"] if self.reference else []
        lines.append(
            f"train {name} {fmt(self.train_error)}, dev {name} {fmt(self.dev_error)}, "
            f"human-level {fmt(self.human_error)} ({self.human_source})"
        )
        if self.below_human:  # one statement: the raw negative number is not a bias
            below = (
                f"{-100 * self.avoidable_bias:.2f} points"
                if self.metric == "error"
                else f"{-self.avoidable_bias:.3f}"
            )
            lines.append(
                f"avoidable bias 0 (training {name} is {below} below the human-level "
                "estimate, so that estimate is above Bayes error and no avoidable bias is "
                f"measurable against it), variance {fmt(self.variance, True)} (dev − train)"
            )
        else:
            lines.append(
                f"avoidable bias {fmt(self.avoidable_bias, True)} (train − human), "
                f"variance {fmt(self.variance, True)} (dev − train)"
            )
        lines.append(f"verdict: {self.verdict}")
        bias = max(self.avoidable_bias, 0.0)
        lines.append(
            f"larger gap: {self.larger_gap} "
            f"({fmt(max(bias, self.variance))} vs {fmt(min(bias, self.variance))})"
        )
        for f in self.findings:
            lines.append(f"curves: {f.message} → {f.advice}")
        if self.next_steps:
            lines.append("next steps (basic recipe, larger gap first):")
            lines += [f"  - {step}" for step in self.next_steps]
        else:
            lines.append("next steps: none needed — done, or look at the test set")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "train_error": self.train_error,
            "dev_error": self.dev_error,
            "human_error": self.human_error,
            "human_source": self.human_source,
            "avoidable_bias": self.avoidable_bias,
            "variance": self.variance,
            "verdict": self.verdict,
            "larger_gap": self.larger_gap,
            "curves": [f.to_dict() for f in self.findings],
            "next_steps": self.next_steps,
            "metric": self.metric,
            "reference": self.reference,
            "reference_rmse": self.reference_rmse,
        }


def human_level(human_error: float | None, dataset: str | None = None) -> tuple[float, str]:
    """``(human-level error, where it came from)``: given, a documented estimate, or 0."""
    if human_error is not None:
        return check.fraction("human_error", human_error), "given"
    if dataset in HUMAN_LEVEL:
        error, source = HUMAN_LEVEL[dataset]
        return error, f"not given; estimate for {dataset}: {source}"
    return 0.0, "not given; 0 % assumed, so avoidable bias is an upper bound"


def recipe(bias: float, variance: float, threshold: float) -> tuple[bool, bool, list[str]]:
    """The basic recipe's next steps for an avoidable bias and a variance (same units).

    A gap is high above ``threshold``; the steps of the larger gap come first, a tie going
    to bias (the notes fix bias first). A negative bias (training error below human level)
    counts as 0.

    Returns:
        ``(high_bias, high_variance, steps)``.
    """
    high_bias, high_variance = max(bias, 0.0) > threshold, variance > threshold
    bias_steps = RECIPE_BIAS if high_bias else []
    variance_steps = RECIPE_VARIANCE if high_variance else []
    first, second = (
        (bias_steps, variance_steps) if max(bias, 0.0) >= variance else (variance_steps, bias_steps)
    )
    steps: list[str] = []
    for step in [*first, *second]:
        if step not in steps:
            steps.append(step)
    return high_bias, high_variance, steps


def diagnose(
    train_error: float,
    dev_error: float,
    human_error: float | None = None,
    threshold: float = 0.02,
    dataset: str | None = None,
    history: list[dict] | None = None,
) -> Diagnosis:
    """Diagnose bias and variance; errors are fractions (0.11 for 11 %).

    Args:
        human_error: human-level (≈ Bayes) error; None: not given (see the module docstring).
        dataset: a dataset name, for its documented human-level estimate.
        history: per-epoch records, to read the curves as well.
    """
    train_error = check.fraction("train_error", train_error)
    dev_error = check.fraction("dev_error", dev_error)
    human, source = human_level(human_error, dataset)
    return _diagnosis(train_error, dev_error, human, source, threshold, history)


def diagnose_regression(
    train_rmse: float,
    dev_rmse: float,
    reference_rmse: float,
    human_error: float | None = None,
    threshold: float = 0.02,
    history: list[dict] | None = None,
) -> Diagnosis:
    """Bias / variance of a regression, in RMSE relative to the constant predictor.

    The reference is the constant predictor that always says the training mean: its RMSE is
    the training targets' standard deviation σ (``reference_rmse``). Errors are divided by
    it, so 1 is "learned nothing" and 0 a perfect fit (``1 − R²`` is its square on the
    training set), and the notes' rules apply unchanged:

        avoidable bias = train/σ − human/σ,   variance = dev/σ − train/σ

    Args:
        train_rmse, dev_rmse: RMSE in the targets' units.
        reference_rmse: σ, the RMSE of the constant predictor on the training targets.
        human_error: human-level (≈ Bayes) RMSE in the targets' units; None: 0 assumed (an
            upper bound on avoidable bias), said so in the verdict.
        threshold: a gap is "high" above this fraction of σ (default 0.02).
    """
    ref = check.positive("reference_rmse", reference_rmse)
    train = check.non_negative("train_rmse", train_rmse) / ref
    dev = check.non_negative("dev_rmse", dev_rmse) / ref
    if human_error is None:
        human, source = 0.0, "not given; 0 assumed, so avoidable bias is an upper bound"
    else:
        human = check.non_negative("human_error", human_error) / ref
        source = f"given: RMSE {human_error:.4g}"
    reference = (
        f"RMSE / RMSE of the constant predictor (the training mean: RMSE σ = {ref:.4g}); "
        f"train RMSE {train_rmse:.4g}, dev RMSE {dev_rmse:.4g}"
    )
    return _diagnosis(
        train,
        dev,
        human,
        source,
        threshold,
        history,
        metric="relative RMSE",
        reference=reference,
        reference_rmse=ref,
    )


def _diagnosis(train, dev, human, source, threshold, history, **extra) -> Diagnosis:
    """The notes' rule on three errors of one scale (``source``: where ``human`` came from):

        avoidable bias = train − human,   variance = dev − train

    then the basic recipe's steps (a gap is high above ``threshold``) and the curves of
    ``history`` read. ``extra``: the Diagnosis fields of a metric other than error."""
    threshold = check.non_negative("threshold", threshold)
    bias, variance = train - human, dev - train
    high_bias, high_variance, steps = recipe(bias, variance, threshold)
    findings = read_curves(history) if history else []
    return Diagnosis(
        train, dev, human, bias, variance, high_bias, high_variance, steps, source, findings,
        **extra,
    )  # fmt: skip
