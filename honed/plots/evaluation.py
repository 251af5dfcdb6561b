"""Figures of ``honed evaluate``: confusion matrix, misclassified examples, decision boundary."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from honed.plots.figure import finish, pyplot


def plot_confusion(analysis, path, title: str | None = None) -> Path:
    """The confusion matrix as a heat map, rows normalized (each row: where a true class
    went, so the diagonal is the recall); every cell is annotated with its count."""
    plt = pyplot()
    C = analysis.confusion
    rows = C / np.maximum(C.sum(axis=1, keepdims=True), 1)
    n = len(analysis.class_names)
    size = max(5.0, 0.7 * n + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                str(int(C[i, j])),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if rows[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(n), analysis.class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), analysis.class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true class")
    ax.set_title(
        (title + ": " if title else "")
        + f"{analysis.split or 'data'} accuracy {analysis.accuracy:.2%}"
    )
    return finish(fig, path, dpi=110)


def plot_misclassified(
    images, y_true, y_pred, class_names, path, image_shape, limit: int = 36, title=None
) -> Path:
    """A grid of up to ``limit`` misclassified images (the first ones, in data order), each
    titled "true → predicted"."""
    plt = pyplot()
    all_wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))
    wrong = all_wrong[:limit]
    cols = 6
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.9, rows * 2.1), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(np.asarray(images[i]).reshape(image_shape), cmap="gray_r")
        ax.set_title(
            f"{class_names[y_true[i]]}\n→ {class_names[y_pred[i]]}", fontsize=7, color="darkred"
        )
    fig.suptitle(
        (title + ": " if title else "") + f"{len(wrong)} misclassified examples (true → predicted)",
        fontsize=9,
    )
    return finish(fig, path, dpi=110)


def plot_decision_boundary(predict_proba, X, y, class_names, path, title=None) -> Path:
    """2-D inputs: the predicted class over a grid around the data (shaded by the winning
    probability) with the examples on top; ``predict_proba`` takes raw ``(m, 2)`` inputs."""
    plt = pyplot()
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * (hi - lo + 1e-12)
    g0, g1 = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], 200),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], 200),
    )
    grid = np.column_stack([g0.ravel(), g1.ravel()]).astype(np.float32)
    proba = predict_proba(grid)
    cls = proba.argmax(axis=1).reshape(g0.shape)
    fig, ax = plt.subplots(figsize=(6, 5))
    n = len(class_names)
    ax.contourf(g0, g1, cls, levels=np.arange(n + 1) - 0.5, cmap="coolwarm", alpha=0.35)
    ax.contour(g0, g1, cls, levels=np.arange(n) + 0.5, colors="k", linewidths=0.8)
    for k in range(n):
        pts = X[y == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=8, label=str(class_names[k]))
    ax.legend(fontsize=8)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title((title + ": " if title else "") + "decision boundary")
    return finish(fig, path, dpi=110)


__all__ = ["plot_confusion", "plot_decision_boundary", "plot_misclassified"]


def plot_regression(predictions, targets, path, names=None, title: str | None = None) -> Path:
    """Predicted against true values, one panel per target column, with the identity line
    (a perfect fit lies on it) and the panel's RMSE and R²."""
    from honed.nn import regression_metrics

    plt = pyplot()
    pred = np.asarray(predictions, dtype=np.float64).reshape(len(predictions), -1)
    true = np.asarray(targets, dtype=np.float64).reshape(len(targets), -1)
    k = pred.shape[1]
    names = list(names) if names and len(names) == k else [f"y{j}" for j in range(k)]
    fig, axes = plt.subplots(1, k, figsize=(4.5 * k, 4.5), squeeze=False)
    for j, ax in enumerate(axes[0]):
        m = regression_metrics(pred[:, j], true[:, j])
        ax.scatter(true[:, j], pred[:, j], s=12, alpha=0.7)
        low = min(true[:, j].min(), pred[:, j].min())
        high = max(true[:, j].max(), pred[:, j].max())
        ax.plot([low, high], [low, high], color="gray", linestyle="--", linewidth=1)
        ax.set_xlabel(f"true {names[j]}")
        ax.set_ylabel(f"predicted {names[j]}")
        ax.set_title(f"RMSE {m['rmse']:.4g}, R² {m['r2']:.3f}", fontsize=10)
    return finish(fig, path, title)
