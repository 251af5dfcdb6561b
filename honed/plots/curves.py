"""Learning curves: train vs dev cost and error per epoch, with events such as lr changes."""

from __future__ import annotations

from pathlib import Path


def plot_curves(history, path, title: str | None = None) -> Path:
    """Draw cost and error (train vs dev) against epochs into ``path`` (PNG).

    A big gap between train and dev error means overfitting (variance); both high and close
    means too little capacity (bias). Learning-rate changes and early stopping are marked.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = history.column("epoch")
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, key, label in ((axes[0], "cost", "cost J"), (axes[1], "error", "error")):
        ax.plot(epochs, history.column(f"train_{key}"), "o-", ms=3, label="train")
        dev = history.column(f"dev_{key}")
        if any(v is not None for v in dev):
            ax.plot(
                epochs, [float("nan") if v is None else v for v in dev], "o-", ms=3, label="dev"
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
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
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
