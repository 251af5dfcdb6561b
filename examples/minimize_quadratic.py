"""The framework example of the notes: write only the forward pass, get the gradient.

Minimise J(w) = w² − 10w + 25 = (w − 5)² from w = 0 with plain gradient descent (lr 0.01,
1000 steps) → w ≈ 5. Then the notes' variant where the coefficients [[1], [−20], [25]] come
in as data: J = x₀w² + x₁w + x₂ = (w − 10)² → w ≈ 10.

    python examples/minimize_quadratic.py
"""

import numpy as np

from honed import Parameter


def gradient_descent(cost, w: Parameter, lr: float = 0.01, steps: int = 1000) -> float:
    for _ in range(steps):
        w.grad = None
        cost(w).backward()
        w.data -= lr * w.grad
    return w.item()


def main() -> None:
    w = Parameter(0.0, name="w")
    print(f"J(w) = w**2 - 10*w + 25        w before: {w.item():.3f}")
    after = gradient_descent(lambda w: w**2 - 10 * w + 25, w)
    print(f"                               w after 1000 steps of GD (lr 0.01): {after:.3f}")

    coefficients = np.array([[1.0], [-20.0], [25.0]], dtype=np.float32)
    w = Parameter(0.0, name="w")
    print(
        f"J(w) = x0*w**2 + x1*w + x2, x = {coefficients.ravel().tolist()}   w before: {w.item():.3f}"
    )
    after = gradient_descent(
        lambda w: (coefficients[0] * w**2 + coefficients[1] * w + coefficients[2]).sum(), w
    )
    print(f"                               w after 1000 steps of GD (lr 0.01): {after:.3f}")


if __name__ == "__main__":
    main()
