"""The notes' initialization experiment: 5 layers × 100 units, 1000 random inputs.

For sigmoid, tanh and ReLU and weights drawn with std 1, std 0.01, Xavier (sqrt(1/n)) and He
(sqrt(2/n)), print each layer's activation mean, std and saturated fraction, and draw the
histograms of every layer's activations into a PNG (when matplotlib is installed).

    python examples/init_experiment.py [--out init_experiment.png] [--seed 0]

What to look for: std 1 pushes sigmoid/tanh to their flat ends (saturation: vanishing
gradients); std 0.01 collapses all activations to one value; Xavier (sigmoid/tanh) and He
(ReLU) keep a healthy spread in every layer.
"""

from __future__ import annotations

import argparse

from honed.diagnose.activations import WEIGHT_SETTINGS, format_stats, init_experiment

ACTIVATIONS = ("sigmoid", "tanh", "relu")


def plot(results, path: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install 'honed[viz]')")
        return False
    weights = list(WEIGHT_SETTINGS)
    n_layers = len(next(iter(results.values())))
    rows = len(ACTIVATIONS) * len(weights)
    fig, axes = plt.subplots(rows, n_layers, figsize=(2.2 * n_layers, 1.5 * rows), squeeze=False)
    for r, (act, w) in enumerate((a, w) for a in ACTIVATIONS for w in weights):
        for c, stats in enumerate(results[(act, w)]):
            ax = axes[r, c]
            values = stats.values.ravel()
            hist_range = (0, 1) if act == "sigmoid" else (-1, 1) if act == "tanh" else None
            ax.hist(values, bins=30, range=hist_range, color="tab:blue")
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            if r == 0:
                ax.set_title(f"layer {c + 1}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{act}\n{w}", fontsize=8)
    fig.suptitle("activation histograms per layer (rows: activation, weight init)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="init_experiment.png", help="PNG path for the figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)

    results = init_experiment(activations=ACTIVATIONS, seed=args.seed)
    for (act, w), stats in results.items():
        print(f"\n== {act}, weights {w}")
        print(format_stats(stats))
    if not args.no_plot and plot(results, args.out):
        print(f"\nhistograms written to {args.out}")


if __name__ == "__main__":
    main()
