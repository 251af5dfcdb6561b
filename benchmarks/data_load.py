"""Time to load Fashion-MNIST (decode 4 gzip IDX files → float32 Datasets). Target: < 2 s.

Run: .venv/bin/python benchmarks/data_load.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from honed.data import fashion_mnist, read_idx

DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def main(repeats: int = 3) -> int:
    if not (DEBIAN / "train-images-idx3-ubyte.gz").is_file():
        print(f"skip: {DEBIAN} not found (apt-get install dataset-fashion-mnist)")
        return 0
    t_decode, t_load = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        read_idx(DEBIAN / "train-images-idx3-ubyte.gz")
        t_decode.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        train, test = fashion_mnist(path=DEBIAN, download=False)
        t_load.append(time.perf_counter() - t0)
    dec, load = statistics.median(t_decode), statistics.median(t_load)
    print(f"read_idx train images (26 MB gzip → 47 MB): median {dec:.3f} s over {repeats}")
    print(
        f"fashion_mnist() train {train.X.shape} + test {test.X.shape}: median {load:.3f} s "
        f"over {repeats} (target < 2 s) {'OK' if load < 2 else 'SLOW'}"
    )
    return 0 if load < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
