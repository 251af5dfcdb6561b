"""Where one training step's time goes: forward, forward+backward and the Adam step.

A 784-256-256-10 ReLU MLP on one batch of 128 (float32), honed vs PyTorch, both with BLAS on
every core, best of 5 repeats of 200 steps. Forward+backward is dominated by the three
matrix products each way (about 155 MFLOP per step), so it shows how close each library is
to the machine's GEMM throughput; the rest of an epoch is the optimizer and overhead.

    python benchmarks/step_breakdown.py
"""

import os
import timeit

import numpy as np


def best_ms(fn, number=200, repeat=5) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3


def main() -> None:
    import torch
    from threadpoolctl import threadpool_limits

    from honed.autograd import Tensor, softmax_cross_entropy
    from honed.nn import mlp
    from honed.optim import Adam
    from honed.train.memory import keep_freed_memory

    # As the Trainer does: without it a bare loop like this one page-faults its freed
    # gradients back in every step (it applies to torch's allocations in this process too).
    keep_freed_memory()
    cores = os.cpu_count() or 1
    threadpool_limits(cores)
    torch.set_num_threads(cores)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)

    model = mlp([784, 256, 256, 10])
    opt = Adam(model.parameters(), lr=1e-3)

    def forward():
        softmax_cross_entropy(model(Tensor(X)), y)

    def forward_backward():
        opt.zero_grad()
        softmax_cross_entropy(model(Tensor(X)), y).backward()

    tmodel = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )
    topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)

    def t_forward():
        with torch.enable_grad():
            torch.nn.functional.cross_entropy(tmodel(tX), ty)

    def t_forward_backward():
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tmodel(tX), ty).backward()

    for _ in range(20):  # warm up, and create the optimizer states
        forward_backward(), opt.step(), t_forward_backward(), topt.step()
    rows = [
        ("forward", best_ms(forward), best_ms(t_forward)),
        ("forward+backward", best_ms(forward_backward), best_ms(t_forward_backward)),
        ("Adam step", best_ms(opt.step), best_ms(topt.step)),
    ]
    print(f"batch 128, {cores} cores; ms per call")
    print(f"{'':<18}{'honed':>8}{'torch':>8}{'ratio':>8}")
    for name, h, t in rows:
        print(f"{name:<18}{h:>8.3f}{t:>8.3f}{h / t:>8.2f}")
    total_h, total_t = rows[1][1] + rows[2][1], rows[1][2] + rows[2][2]
    print(f"{'step (f+b+Adam)':<18}{total_h:>8.3f}{total_t:>8.3f}{total_h / total_t:>8.2f}")


if __name__ == "__main__":
    main()
