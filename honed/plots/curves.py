"""Learning curves: train vs dev cost and error per epoch, with events such as lr changes.

:func:`draw_train_dev` draws the two panels every view of a run's curves shares: the run's
``curves.png`` (:func:`plot_curves`, with the learning rate and the events), the live curves
in a notebook (:class:`honed.train.LivePlot`) and a run's HTML card (:func:`curves_png`).
"""

from __future__ import annotations

import io
from pathlib import Path

from honed.plots.figure import finish, pyplot


def draw_train_dev(axes, history) -> None:
    """Cost J and error per epoch on ``axes`` (two matplotlib axes): train, and dev where
    it was measured (epochs without a dev value are gaps; no dev line when there is none).

    A big gap between train and dev error means overfitting (variance); both high and close
    means too little capacity (bias).
    """
    epochs = history.column("epoch")
    for ax, key, label in zip(axes, ("cost", "error"), ("cost J", "error")):
        ax.plot(epochs, history.column(f"train_{key}"), "o-", ms=3, label="train")
        dev = [float("nan") if v is None else v for v in history.column(f"dev_{key}")]
        if any(v == v for v in dev):  # some dev value is not NaN
            ax.plot(epochs, dev, "o-", ms=3, label="dev")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()


def curves_png(history, title: str = "") -> bytes:
    """The two panels of :func:`draw_train_dev` as PNG bytes, drawn on a bare matplotlib
    ``Figure`` (no pyplot: a notebook's own backend is left alone)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.2))
    draw_train_dev(fig.subplots(1, 2), history)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def plot_curves(history, path, title: str | None = None) -> Path:
    """Draw cost and error (train vs dev, :func:`draw_train_dev`) and the learning rate
    against epochs into ``path`` (PNG). Learning-rate changes and early stopping (the best
    epoch, whose weights were restored) are marked."""
    plt = pyplot()
    epochs = history.column("epoch")
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    draw_train_dev(axes[:2], history)
    axes[2].plot(epochs, history.column("lr"), "o-", ms=3, color="tab:green")
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("learning rate α")
    axes[2].set_yscale("log")
    axes[2].grid(alpha=0.3)
    for event in history.events:
        if event.get("event") == "lr":
            for ax in axes:
                ax.axvline(event["epoch"] + 0.5, color="gray", ls="--", lw=1)
            axes[2].annotate(
                f"α → {event['value']:.2g}", (event["epoch"] + 0.5, event["value"]), fontsize=8
            )
        elif event.get("event") == "early_stop":
            axes[1].axvline(
                event["best_epoch"], color="tab:red", ls=":", lw=1, label="best (restored)"
            )
            axes[1].legend()
    return finish(fig, path, title)
