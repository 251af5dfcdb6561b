"""The lineage of a population-based training run: who copied whom, when, and what it gave."""

from __future__ import annotations

from pathlib import Path


def plot_lineage(population, lineage, path, key: str = "dev_error", title: str | None = None):
    """Draw a PBT run into ``path`` (PNG): left, each member's ``key`` per epoch (an exploit
    makes the member's curve jump to its parent's); right, the lineage tree: one row per
    member, an arrow from parent to member at each exploit, rows coloured by the member whose
    weights they descend from at the end, and the learning rate written at each exploit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    P = len(population)
    cmap = plt.get_cmap("tab20" if P > 10 else "tab10")
    # the founder (member of epoch 0) whose weights each member carries, over time
    founder = list(range(P))
    for event in sorted(lineage, key=lambda e: e["epoch"]):
        founder[event["member"]] = founder[event["parent"]]
    fig, (ax_curve, ax_tree) = plt.subplots(1, 2, figsize=(14, 5))
    for k, h in enumerate(population.histories):
        epochs = h.column("epoch")
        values = [float("nan") if v is None else v for v in h.column(key)]
        ax_curve.plot(epochs, values, lw=1, color=cmap(founder[k] % cmap.N), alpha=0.8)
    ax_curve.set_xlabel("epoch")
    ax_curve.set_ylabel(key.replace("_", " "))
    ax_curve.grid(alpha=0.3)
    ax_curve.set_title("members (colour: founder at the end)")
    last = max((len(h) for h in population.histories), default=1)
    for k in range(P):
        ax_tree.hlines(k, 0, last, color=cmap(founder[k] % cmap.N), lw=2, alpha=0.5)
    seen_at: dict[int, int] = {}
    for event in lineage:
        e, dst, src = event["epoch"], event["member"], event["parent"]
        # several exploits at one epoch: spread their arrows so that each stays visible
        j = seen_at.get(e, 0)
        seen_at[e] = j + 1
        e = e + 0.12 * j
        ax_tree.annotate(
            "",
            xy=(e, dst),
            xytext=(e, src),
            arrowprops={"arrowstyle": "->", "color": "black", "lw": 0.8, "alpha": 0.7},
        )
        lr = event["after"].get("lr")
        if lr is not None:
            ax_tree.text(e + 0.1, dst + 0.15, f"{lr:.1e}", fontsize=6)
    ax_tree.set_xlim(0, last + 1)
    ax_tree.set_ylim(-1, P)
    ax_tree.set_xlabel("epoch")
    ax_tree.set_ylabel("member")
    ax_tree.set_title(f"lineage: {len(lineage)} exploits (arrow: parent → member, new lr)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["plot_lineage"]
