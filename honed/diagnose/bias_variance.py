"""Bias / variance diagnosis from train and dev error, and the notes' basic recipe.

    avoidable bias = train error − human-level (≈ Bayes) error
    variance       = dev error − train error

The notes' four cases (human error ≈ 0 %):

    train 1 %,  dev 11 %  → high variance
    train 15 %, dev 16 %  → high bias
    train 15 %, dev 30 %  → high bias and high variance
    train 0.5 %, dev 1 %  → low bias and low variance

A gap counts as "high" when it exceeds ``threshold`` (default 2 percentage points).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from honed import validation as check

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
    """The verdict with its numbers and the next steps of the basic recipe."""

    train_error: float
    dev_error: float
    human_error: float
    avoidable_bias: float
    variance: float
    high_bias: bool
    high_variance: bool
    next_steps: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.high_bias and self.high_variance:
            return "high bias and high variance"
        if self.high_bias:
            return "high bias"
        if self.high_variance:
            return "high variance"
        return "low bias and low variance"

    def __str__(self) -> str:
        lines = [
            f"train error {self.train_error:.2%}, dev error {self.dev_error:.2%}, human-level {self.human_error:.2%}",
            f"avoidable bias {self.avoidable_bias:+.2%} (train − human), variance {self.variance:+.2%} (dev − train)",
            f"verdict: {self.verdict}",
        ]
        if self.next_steps:
            lines.append("next steps (basic recipe):")
            lines += [f"  - {step}" for step in self.next_steps]
        else:
            lines.append("next steps: none needed — done, or look at the test set")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "train_error": self.train_error,
            "dev_error": self.dev_error,
            "human_error": self.human_error,
            "avoidable_bias": self.avoidable_bias,
            "variance": self.variance,
            "verdict": self.verdict,
            "next_steps": self.next_steps,
        }


def _check_error(name: str, value: float) -> float:
    return check.fraction(name, value)


def diagnose(
    train_error: float, dev_error: float, human_error: float = 0.0, threshold: float = 0.02
) -> Diagnosis:
    """Diagnose bias and variance; errors are fractions (0.11 for 11 %)."""
    train_error = _check_error("train_error", train_error)
    dev_error = _check_error("dev_error", dev_error)
    human_error = _check_error("human_error", human_error)
    threshold = check.non_negative("threshold", threshold)
    bias = train_error - human_error
    variance = dev_error - train_error
    high_bias, high_variance = bias > threshold, variance > threshold
    steps: list[str] = []
    # The recipe's order: fix bias first (until the training set is fit), then variance.
    if high_bias:
        steps += RECIPE_BIAS
    if high_variance:
        steps += [s for s in RECIPE_VARIANCE if s not in steps]
    return Diagnosis(
        train_error, dev_error, human_error, bias, variance, high_bias, high_variance, steps
    )
