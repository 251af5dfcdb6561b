"""Decision boundaries of any model on 2-D data: probability shading, train and test points.

The model is anything with ``predict_proba(X)`` (honed's MLP: sigmoid column or softmax
rows) or a function ``X -> probabilities``. For one output column the shading is
``P(y = 1 | x)`` on a blue–red scale and the line is the 0.5 contour; for C columns each
region takes its class colour, paler where the winning probability is lower.
"""

from __future__ import annotations

import numpy as np

from honed.plots.figure import finish, pyplot

_CLASS_COLOURS = ("tab:blue", "tab:red", "tab:green", "tab:orange", "tab:purple", "tab:brown")


def _probabilities(model, X: np.ndarray) -> np.ndarray:
    f = model.predict_proba if hasattr(model, "predict_proba") else model
    with np.errstate(over="ignore"):  # large logits: sigmoid saturates to 0 or 1, fine
        P = np.asarray(f(X.astype(np.float32)), dtype=float)
    return P.reshape(len(X), -1)


def _box(datasets, margin: float):
    X = np.concatenate([np.asarray(d.X) for d in datasets if d is not None])
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * (hi - lo)
    return lo - pad, hi + pad


def grid_probabilities(model, lo, hi, resolution: int = 150):
    """``(xx, yy, P)`` on a ``resolution²`` grid spanning ``lo..hi``; ``P`` (r, r, columns)."""
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    P = _probabilities(model, np.c_[xx.ravel(), yy.ravel()])
    return xx, yy, P.reshape(resolution, resolution, -1)


def draw_decision_boundary(
    ax,
    model,
    train=None,
    test=None,
    title: str | None = None,
    resolution: int = 150,
    margin: float = 0.1,
    box=None,
    point_size: float = 12,
):
    """Draw on ``ax``: shaded probabilities, the boundary, train (●) and test (×) points.

    Args:
        ax: a matplotlib Axes.
        model: has ``predict_proba`` or is a function of ``X`` (m, 2).
        train, test: Datasets with ``X`` (m, 2) and ``y`` (either may be None).
        box: ``(lo, hi)`` corners of the drawn region; default the data's range + margin.
    """
    from matplotlib.colors import to_rgb

    lo, hi = box if box is not None else _box([train, test], margin)
    xx, yy, P = grid_probabilities(model, lo, hi, resolution)
    extent = (lo[0], hi[0], lo[1], hi[1])
    if P.shape[2] == 1:
        # the colour range is wider than [0, 1] so that sure regions stay light enough to
        # show the points on them
        ax.imshow(
            P[:, :, 0],
            origin="lower",
            extent=extent,
            cmap="RdBu_r",
            vmin=-0.3,
            vmax=1.3,
            alpha=0.6,
            aspect="auto",
        )
        if P.min() < 0.5 < P.max():
            ax.contour(xx, yy, P[:, :, 0], levels=[0.5], colors="k", linewidths=1)
        n_classes = 2
    else:
        n_classes = P.shape[2]
        colours = np.array(
            [to_rgb(_CLASS_COLOURS[c % len(_CLASS_COLOURS)]) for c in range(n_classes)]
        )
        winner, strength = P.argmax(axis=2), P.max(axis=2)
        rgb = colours[winner]
        # pale (towards white) where the winning class is unsure: 1/C → white, 1 → full colour
        w = ((strength - 1 / n_classes) / (1 - 1 / n_classes))[..., None] * 0.6
        ax.imshow(1 - w * (1 - rgb), origin="lower", extent=extent, aspect="auto")
        for c in range(n_classes):
            ax.contour(
                xx, yy, (winner == c).astype(float), levels=[0.5], colors="k", linewidths=0.7
            )
    colours = ("tab:blue", "tab:red") if n_classes == 2 else _CLASS_COLOURS
    for data, marker, label in ((train, "o", "train"), (test, "x", "test")):
        if data is None:
            continue
        X, y = np.asarray(data.X), np.asarray(data.y)
        for c in np.unique(y):
            sel = y == c
            kwargs = {"edgecolors": "k", "linewidths": 0.4} if marker == "o" else {}
            ax.scatter(
                X[sel, 0],
                X[sel, 1],
                s=point_size,
                marker=marker,
                c=colours[int(c) % len(colours)],
                label=f"{label} {c}",
                **kwargs,
            )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_decision_boundary(model, train=None, test=None, title=None, path=None, **kwargs):
    """A figure with one decision boundary (see :func:`draw_decision_boundary`).

    Returns the figure, or writes it as PNG to ``path`` and returns the path.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    draw_decision_boundary(ax, model, train, test, title=title, **kwargs)
    ax.legend(fontsize=7, loc="upper right")
    return finish(fig, path)


def plot_boundary_grid(models, train=None, test=None, title=None, path=None, **kwargs):
    """A grid of boundaries: rows are variants, columns seeds.

    Args:
        models: ``{variant: [model per seed]}``, or ``{variant: [(model, train, test), ...]}``
            when each seed has its own data; all drawn on one shared box.
        train, test: the data shown in every panel (when not given per seed).
    """
    plt = pyplot()

    def unpack(item):
        return item if isinstance(item, tuple) else (item, train, test)

    variants = list(models)
    n_cols = max(len(v) for v in models.values())
    everything = [d for v in models.values() for it in v for d in unpack(it)[1:] if d is not None]
    box = _box(everything, kwargs.pop("margin", 0.1)) if everything else ((-1, -1), (1, 1))
    fig, axes = plt.subplots(
        len(variants), n_cols, figsize=(2.4 * n_cols, 2.3 * len(variants)), squeeze=False
    )
    for r, variant in enumerate(variants):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(models[variant]):
                ax.axis("off")
                continue
            model, tr, te = unpack(models[variant][c])
            draw_decision_boundary(
                ax, model, tr, te, box=box, point_size=5, resolution=kwargs.get("resolution", 100)
            )
            if r == 0:
                ax.set_title(f"seed {c}", fontsize=9)
            if c == 0:
                ax.set_ylabel(variant, fontsize=9)
    return finish(fig, path, title)


def boundary_length(model, lo, hi, resolution: int = 120) -> float:
    """How wiggly a boundary is: the fraction of neighbouring grid cells whose predicted
    class differs (horizontal and vertical pairs). A straight line across the box gives
    about ``1/resolution``; islands and wiggles give more."""
    _, _, P = grid_probabilities(model, lo, hi, resolution)
    label = (P[:, :, 0] > 0.5) if P.shape[2] == 1 else P.argmax(axis=2)
    changes = (label[1:, :] != label[:-1, :]).sum() + (label[:, 1:] != label[:, :-1]).sum()
    return float(changes) / (2 * resolution * (resolution - 1))
