"""Per-op overhead: microseconds for a tiny add, forward only and forward+backward.

honed vs raw NumPy vs PyTorch (if installed), measured in the same run, best of 7 repeats.

    python benchmarks/op_overhead.py
"""

import timeit

import numpy as np

from honed import Parameter, Tensor


def best_us(fn, number=20000, repeat=7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    x = np.ones(3, dtype=np.float32)
    y = np.ones(3, dtype=np.float32)
    g = np.ones(3, dtype=np.float32)
    rows = []

    numpy_fwd = best_us(lambda: x + y)
    rows.append(("numpy", numpy_fwd, float("nan")))

    a, b = Parameter(x), Tensor(y)

    def honed_fb():
        a.grad = None
        (a + b).backward(g)

    rows.append(("honed", best_us(lambda: a + b), best_us(honed_fb)))

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        ta = torch.ones(3, requires_grad=True)
        tb, tg = torch.ones(3), torch.ones(3)

        def torch_fb():
            ta.grad = None
            (ta + tb).backward(tg)

        rows.append(("torch", best_us(lambda: ta + tb), best_us(torch_fb, number=5000)))

    print(f"{'tiny add (3 floats)':<22}{'forward µs':>12}{'fwd+bwd µs':>12}")
    for name, fwd, fb in rows:
        print(f"{name:<22}{fwd:>12.2f}{fb:>12.2f}")
    honed = dict((r[0], r) for r in rows)
    if "torch" in honed:
        h, t = honed["honed"], honed["torch"]
        print(f"{'honed / torch':<22}{h[1] / t[1]:>12.2f}{h[2] / t[2]:>12.2f}")


if __name__ == "__main__":
    main()
