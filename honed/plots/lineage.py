"""The lineage of a population-based training run: who copied whom, when, and what it gave."""

from __future__ import annotations

from honed.plots.figure import finish, pyplot


def plot_lineage(
    population,
    lineage,
    path,
    key: str = "dev_error",
    title: str | None = None,
    labels: list[str] | None = None,
):
    """Draw a PBT run into ``path`` (PNG): left, each member's ``key`` per epoch (an exploit
    makes the member's curve jump to its parent's); right, the lineage tree: one row per
    member, an arrow from parent to member at each exploit, rows coloured by the member whose
    weights they descend from at the end, and the learning rate written at each exploit.
    ``labels``: one name per member row (default its index)."""
    plt = pyplot()
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
    ax_tree.set_ylabel("member (trial)" if labels is not None else "member")
    if labels is not None:
        ax_tree.set_yticks(range(P))
        ax_tree.set_yticklabels(labels, fontsize=7 if P > 16 else 9)
    ax_tree.set_title(f"lineage: {len(lineage)} exploits (arrow: parent → member, new lr)")
    return finish(fig, path, title, dpi=110)


class _StudyPopulation:
    """What :func:`plot_lineage` reads of a population, rebuilt from a study's trials."""

    def __init__(self, trials, key: str):
        from honed.train.metrics import History

        self.histories = []
        for t in trials:
            h = History()
            h.epochs = [{"epoch": e, key: v} for e, v in sorted(t.intermediate.items())]
            self.histories.append(h)

    def __len__(self) -> int:
        return len(self.histories)


def pbt_populations(trials) -> list[list]:
    """The PBT populations of a study (``strategy = "pbt"``): lists of its trials, by number."""
    groups: dict[tuple, list] = {}
    for t in trials:
        attrs = t.user_attrs or {}
        if "pbt" in attrs and attrs.get("population"):
            groups.setdefault(tuple(attrs["population"]), []).append(t)
    return [sorted(g, key=lambda t: t.number) for _, g in sorted(groups.items())]


def p_numbers(trials) -> set:
    return {t.number for t in trials}


def plot_study_lineage(study, path, population: int | None = None):
    """The lineage figure of a PBT study (:func:`plot_lineage`), from what the study stores:
    each member's per-epoch dev error and the exploits in its ``pbt`` user attribute.
    ``population``: which one (an index into :func:`pbt_populations`); default the one of
    the best trial. Rows are the members' trial numbers in order. Returns the path, or None
    when the study has no PBT trials."""
    pops = pbt_populations(study.trials)
    if not pops:
        return None
    if population is None:
        best = study.best_trial
        number = None if best is None else best.number
        population = next((i for i, p in enumerate(pops) if number in p_numbers(p)), 0)
    members = pops[population]
    row = {t.number: i for i, t in enumerate(members)}
    lineage = []
    for t in members:
        for e in t.user_attrs["pbt"].get("lineage", []):
            if e["parent"] not in row:
                continue
            after = e.get("after", {})
            lineage.append(
                {
                    "epoch": e["epoch"],
                    "member": row[t.number],
                    "parent": row[e["parent"]],
                    "after": {"lr": after.get("train.lr")} if "train.lr" in after else {},
                }
            )
    numbers = [t.number for t in members]
    title = f"study {study.name!r}: a PBT population of {len(numbers)} trials"
    return plot_lineage(
        _StudyPopulation(members, "dev_error"),
        lineage,
        path,
        title=title,
        labels=[f"#{n}" for n in numbers],
    )


__all__ = ["pbt_populations", "plot_lineage", "plot_study_lineage"]
