"""Diagnosis that reads the curves, human-level estimates, ranking of the gaps; error
analysis (confusion matrix, precision / recall / F1)."""

import numpy as np
import pytest

from honed.diagnose import diagnose, diagnose_regression
from honed.diagnose.bias_variance import HUMAN_LEVEL
from honed.diagnose.curves import read_curves
from honed.diagnose.error_analysis import analyse, confusion_matrix


def records(train_cost, dev_error):
    return [
        {"epoch": i + 1, "train_cost": c, "train_error": 0.1, "dev_error": d, "dev_cost": 1.0}
        for i, (c, d) in enumerate(zip(train_cost, dev_error))
    ]


def kinds(recs):
    return {f.kind for f in read_curves(recs)}


def test_still_improving():
    assert kinds(records([1.0, 0.8, 0.6, 0.5, 0.4], [0.3, 0.25, 0.2, 0.17, 0.15])) == {
        "still_improving"
    }


def test_flat_curves_say_nothing():
    assert kinds(records([0.5, 0.4, 0.39, 0.39, 0.39], [0.2, 0.15, 0.15, 0.15, 0.15])) == set()


def test_unstable_cost():
    assert "unstable_cost" in kinds(
        records([1.0, 0.6, 0.9, 0.5, 0.95, 0.7], [0.3, 0.3, 0.3, 0.3, 0.3, 0.3])
    )


def test_overfitting():
    found = kinds(records([1.0, 0.7, 0.5, 0.4, 0.3, 0.2], [0.3, 0.2, 0.15, 0.17, 0.19, 0.22]))
    assert found == {"overfitting"}


def test_too_few_epochs_say_nothing():
    assert read_curves(records([1.0, 0.5], [0.3, 0.2])) == []


def test_human_level_not_given_is_said():
    text = str(diagnose(0.15, 0.16))
    assert "not given" in text and "verdict: high bias" in text


def test_fashion_mnist_estimate_and_below_human_reading():
    assert HUMAN_LEVEL["fashion_mnist"][0] == pytest.approx(0.165)
    d = diagnose(0.05, 0.105, dataset="fashion_mnist")
    text = str(d)
    assert d.human_error == pytest.approx(0.165) and "zalandoresearch/fashion-mnist" in text
    assert d.avoidable_bias < 0 and "below the human-level estimate" in text
    assert d.verdict == "high variance" and d.larger_gap == "variance"
    assert d.next_steps[0].startswith("more data")


def test_given_human_error_wins_over_the_estimate():
    d = diagnose(0.05, 0.06, human_error=0.01, dataset="fashion_mnist")
    assert d.human_error == 0.01 and d.human_source == "given"
    assert d.larger_gap == "avoidable bias" and d.next_steps[0].startswith("bigger network")


def test_recipe_starts_with_the_larger_gap():
    d = diagnose(0.04, 0.20)  # bias 4 % < variance 16 %
    assert d.verdict == "high bias and high variance" and d.larger_gap == "variance"
    assert d.next_steps[0].startswith("more data")
    d = diagnose(0.15, 0.30)  # a tie: bias first, as the notes do
    assert d.larger_gap == "avoidable bias" and d.next_steps[0].startswith("bigger network")


def test_regression_reads_rmse_relative_to_the_constant_predictor_by_the_same_rule():
    d = diagnose_regression(2.0, 5.0, reference_rmse=10.0, human_error=1.0, threshold=0.05)
    assert (d.train_error, d.dev_error, d.human_error) == (0.2, 0.5, 0.1)
    assert (d.avoidable_bias, d.variance) == pytest.approx((0.1, 0.3))
    assert d.verdict == "high bias and high variance" and d.larger_gap == "variance"
    assert d.metric == "relative RMSE" and d.reference_rmse == 10.0
    for run in (
        lambda: diagnose(0.1, 0.2, threshold=-1),
        lambda: diagnose_regression(1, 2, 3, threshold=-1),
    ):
        with pytest.raises(ValueError, match="threshold"):
            run()


def test_confusion_precision_recall_f1():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 1])
    C = confusion_matrix(y_true, y_pred, 3)
    assert C.tolist() == [[2, 1, 0], [0, 2, 0], [0, 1, 0]]
    a = analyse(y_true, y_pred, ["a", "b", "c"])
    assert a.accuracy == pytest.approx(4 / 6)
    assert a.precision.tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert a.recall.tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert a.f1[0] == pytest.approx(2 * (2 / 3) / (1 + 2 / 3)) and a.f1[2] == 0
    top = a.most_confused(2)
    assert top[0]["count"] == 1 and {(p["true"], p["predicted"]) for p in top} <= {
        ("a", "b"),
        ("c", "b"),
    }
    assert "confusion matrix" in str(a)


def test_confusion_bad_input():
    with pytest.raises(ValueError, match="y_pred must hold labels in"):
        confusion_matrix([0, 1], [0, 5], 2)
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0], 2)


def test_model_summary_lists_layers_shapes_and_parameters():
    from honed.nn import mlp

    m = mlp([784, 32, 10], batch_norm=True, output="softmax")
    text = m.summary()
    assert "(None, 32)" in text and "(None, 10)" in text
    assert f"total parameters: {m.num_parameters():,}" in text
    assert "25,088" in text  # Dense 784 × 32 without bias (batch norm follows)
