"""Layers: Dense, activations, Maxout, BatchNorm, Dropout, Flatten, Sequential, Perceptron.

Rows are examples: an input ``x`` has shape ``(m, n_in)``. The notes write columns
(``Z = W·A + b`` with ``W`` of shape ``(n_out, n_in)``); here ``z = x·W + b`` with ``W`` of
shape ``(n_in, n_out)``, as in Keras.
"""

from __future__ import annotations

import numpy as np

from honed import validation as check
from honed.autograd import (
    Parameter,
    Tensor,
    batch_norm,
    batch_norm_inference,
    dropout,
    elu,
    heaviside,
    leaky_relu,
    linear,
    maxout,
    member_dropout,
    relu,
    reshape,
    sigmoid,
    softmax,
    tanh,
)
from honed.nn.init import get_initializer, initializer_name
from honed.nn.module import Module, build_module, module_spec
from honed.registry import Option, Registry


# -- dense ----------------------------------------------------------------------------------
class Dense(Module):
    """Fully connected layer ``z = x·W + b``.

    Args:
        n_in: inputs per example.
        n_out: units.
        init: initializer name (``"xavier"``, ``"glorot"``, ``"he"``, ``"normal"``,
            ``"uniform"``, ``"zeros"``) or a callable ``(n_in, n_out, rng, scale) -> array``.
        bias: whether to learn ``b`` (initialized to zeros). ``Sequential`` turns it off when
            a ``BatchNorm`` follows: the mean subtraction cancels any constant shift.
        scale: multiplies the initializer's standard deviation.
        rng: ``numpy.random.Generator`` or int seed for the initial weights.

    Attributes:
        W: Parameter of shape ``(n_in, n_out)``, penalized by L1/L2.
        b: Parameter of shape ``(n_out,)``, or None; never penalized.
    """

    _regularized = ("W",)

    def __init__(
        self, n_in: int, n_out: int, init="xavier", bias: bool = True, scale: float = 1.0, rng=None
    ):
        super().__init__()
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.init, self.scale = init, float(scale)
        fn = get_initializer(init)
        W = np.asarray(fn(self.n_in, self.n_out, check.as_rng(rng), scale=self.scale))
        if W.shape != (self.n_in, self.n_out):
            raise ValueError(f"initializer returned shape {W.shape}, expected {(n_in, n_out)}")
        self.W = Parameter(W.astype(np.float32, copy=False), name="W")
        self.b = Parameter(np.zeros(self.n_out, np.float32), name="b") if bias else None

    def forward(self, x):
        return linear(x, self.W, self.b)

    def to_config(self) -> dict:
        return {
            "n_in": self.n_in,
            "n_out": self.n_out,
            "init": initializer_name(self.init) or "zeros",
            "bias": self.b is not None,
            "scale": self.scale,
        }

    def extra_repr(self) -> str:
        name = initializer_name(self.init) or "custom"
        bias = "" if self.b is not None else ", bias=False"
        return f"{self.n_in}, {self.n_out}, init={name!r}{bias}"


# -- activations ----------------------------------------------------------------------------
class Sigmoid(Module):
    """σ(z) = 1/(1+e^(−z))."""

    population = True  # honed.population has it

    def forward(self, x):
        return sigmoid(x)


class Tanh(Module):
    """tanh(z)."""

    population = True  # honed.population has it

    def forward(self, x):
        return tanh(x)


class ReLU(Module):
    """max(0, z)."""

    population = True  # honed.population has it

    def forward(self, x):
        return relu(x)


class LeakyReLU(Module):
    """z for z > 0, slope·z otherwise (the notes use slope 0.01)."""

    options = (Option("slope", "float", 0.01, check.non_negative, "slope for z <= 0, >= 0"),)
    population = True  # honed.population has it (with the declared slope)

    def __init__(self, slope: float = 0.01):
        super().__init__()
        self.slope = self.options[0].validate(slope)

    def forward(self, x):
        return leaky_relu(x, self.slope)

    def to_config(self) -> dict:
        return {"slope": self.slope}

    def extra_repr(self) -> str:
        return f"slope={self.slope:g}"


class ELU(Module):
    """z for z > 0, α(e^z − 1) otherwise."""

    options = (Option("alpha", "float", 1.0, check.positive, "α of α(e^z − 1) for z <= 0"),)
    population = True  # honed.population has it (with the declared α)

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = self.options[0].validate(alpha)

    def forward(self, x):
        return elu(x, self.alpha)

    def to_config(self) -> dict:
        return {"alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"


class Softmax(Module):
    """softmax over ``axis`` (default the last, the classes).

    Note:
        For training, feed logits to ``softmax_cross_entropy`` instead of putting this layer
        before a loss: the fused loss is stable and its backward is simply ``(ŷ − y)/m``.
    """

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = int(axis)

    def forward(self, x):
        return softmax(x, self.axis)

    def to_config(self) -> dict:
        return {"axis": self.axis}


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x):
        return x


#: Registered activation layers (``model.activation`` in an experiment file): a Module class
#: built with no arguments.
ACTIVATIONS: Registry[type[Module]] = Registry("activation")
for _name, _cls in (
    ("sigmoid", Sigmoid),
    ("tanh", Tanh),
    ("relu", ReLU),
    ("leaky_relu", LeakyReLU),
    ("elu", ELU),
    ("softmax", Softmax),
):
    ACTIVATIONS.register(_name, _cls)
ACTIVATIONS.register("identity", Identity, aliases=("linear",))


def population_activations() -> list[str]:
    """The registered activations that declare ``population = True`` (``honed.population``
    has them), in registration order."""
    return [n for n, cls in ACTIVATIONS.items() if getattr(cls, "population", False)]


def get_activation(name: str | Module) -> Module:
    """A fresh activation layer from its name (``"relu"``, ``"tanh"``, ...) or the layer itself."""
    if isinstance(name, Module):
        return name
    return ACTIVATIONS.get(str(name))()


# -- maxout ---------------------------------------------------------------------------------
class Maxout(Module):
    """Maxout: a dense layer to ``n_out·pieces`` then the max over each unit's ``pieces``.

    ``h_j = max_{k<pieces} (x·W + b)[j·pieces + k]``: unit j owns the columns
    ``j·pieces ... j·pieces + pieces − 1`` of ``W``.

    Args:
        n_in, n_out: sizes; ``W`` has shape ``(n_in, n_out·pieces)``.
        pieces: linear pieces per unit (k ≥ 1).
        init, bias, scale, rng: as :class:`Dense`.
    """

    _regularized = ("W",)

    def __init__(
        self,
        n_in: int,
        n_out: int,
        pieces: int = 2,
        init="xavier",
        bias: bool = True,
        scale: float = 1.0,
        rng=None,
    ):
        super().__init__()
        if int(pieces) < 1:
            raise ValueError(f"pieces must be >= 1, got {pieces}")
        self.n_in, self.n_out, self.pieces = int(n_in), int(n_out), int(pieces)
        self.init, self.scale = init, float(scale)
        W = get_initializer(init)(
            self.n_in, self.n_out * self.pieces, check.as_rng(rng), scale=self.scale
        )
        self.W = Parameter(np.asarray(W, np.float32), name="W")
        self.b = (
            Parameter(np.zeros(self.n_out * self.pieces, np.float32), name="b") if bias else None
        )

    def forward(self, x):
        return maxout(linear(x, self.W, self.b), self.pieces)

    def to_config(self) -> dict:
        return {
            "n_in": self.n_in,
            "n_out": self.n_out,
            "pieces": self.pieces,
            "init": initializer_name(self.init) or "zeros",
            "bias": self.b is not None,
            "scale": self.scale,
        }

    def extra_repr(self) -> str:
        return f"{self.n_in}, {self.n_out}, pieces={self.pieces}"


# -- batch norm -----------------------------------------------------------------------------
class BatchNorm(Module):
    """Batch normalization over the examples of a mini-batch (notes, and Ioffe & Szegedy).

    Training mode, per unit over the m rows::

        μ = (1/m) Σ z,   σ² = (1/m) Σ (z − μ)²,   z_norm = (z − μ)/sqrt(σ² + ε),
        z̃ = γ·z_norm + β

    and the running averages for test time are exponentially weighted averages across
    mini-batches (β = ``momentum``)::

        running_mean = momentum·running_mean + (1 − momentum)·μ
        running_var  = momentum·running_var  + (1 − momentum)·σ²

    Eval mode normalizes with ``running_mean`` and ``running_var`` instead of the batch's, so
    each example's output is independent of the rest of the batch and a single example can be
    predicted. Training mode needs at least 2 examples (the variance of one is undefined).

    Args:
        n: units (features).
        eps: ε added to the variance.
        momentum: the EWMA β in [0, 1); ≈ 1/(1 − β) mini-batches are averaged.
        unbiased_running_var: keep ``m/(m−1)·σ²`` in ``running_var`` (as PyTorch) instead
            of σ².

    Attributes:
        gamma, beta: Parameters of shape ``(n,)``, initialized to ones and zeros (never
            penalized).
        running_mean, running_var: buffers, initialized to zeros and ones.

    Note:
        PyTorch's ``momentum`` is the weight of the *new* batch: ``torch momentum = 1 −
        ours`` (PyTorch 0.1 ↔ 0.9 here); Keras' ``momentum=0.99`` has our meaning. PyTorch
        stores the unbiased batch variance ``m/(m−1)·σ²`` in its running estimate; by default
        we keep the biased σ² (1/m) of the notes, which is the variance the layer actually
        normalized with during training (Keras does the same). The difference is a factor
        m/(m−1), negligible for usual batch sizes; ``unbiased_running_var=True`` matches
        PyTorch exactly.
    """

    options = (
        Option("eps", "float", 1e-5, check.positive, "ε > 0 added to σ²"),
        Option("momentum", "float", 0.9, check.beta, "β in [0, 1) of the running averages"),
    )

    def __init__(
        self, n: int, eps: float = 1e-5, momentum: float = 0.9, unbiased_running_var: bool = False
    ):
        super().__init__()
        declared = {o.name: o for o in self.options}
        eps = declared["eps"].validate(eps)
        momentum = declared["momentum"].validate(momentum)
        self.n, self.eps, self.momentum = int(n), eps, momentum
        self.unbiased_running_var = bool(unbiased_running_var)
        self.gamma = Parameter(np.ones(self.n, np.float32), name="gamma")
        self.beta = Parameter(np.zeros(self.n, np.float32), name="beta")
        self.register_buffer("running_mean", np.zeros(self.n, np.float32))
        self.register_buffer("running_var", np.ones(self.n, np.float32))

    def forward(self, x):
        if not self.training:
            return batch_norm_inference(
                x, self.gamma, self.beta, self.running_mean, self.running_var, self.eps
            )
        # The running averages are updated by the op itself (``update_running``), so that a
        # captured, replayed step updates them exactly as this eager call does.
        return batch_norm(x, self.gamma, self.beta, self.eps, running=self)

    def update_running(self, mu: np.ndarray, var: np.ndarray, m: int) -> None:
        """Fold one training batch's μ and σ² (1/m) into the running averages."""
        if self.unbiased_running_var:
            var = var * (m / (m - 1))
        # In place: the buffers are this module's own arrays (state_dict copies them).
        b = self.momentum
        rm, rv = self.running_mean, self.running_var
        rm *= b
        rm += (1.0 - b) * mu
        rv *= b
        rv += (1.0 - b) * var

    def to_config(self) -> dict:
        return {
            "n": self.n,
            "eps": self.eps,
            "momentum": self.momentum,
            "unbiased_running_var": self.unbiased_running_var,
        }

    def extra_repr(self) -> str:
        return f"{self.n}, eps={self.eps:g}, momentum={self.momentum:g}"


# -- dropout --------------------------------------------------------------------------------
def check_keep_prob(keep_prob) -> float:
    """``keep_prob`` as a float: ``ValueError`` unless 0 < keep_prob <= 1."""
    return check.keep_prob("keep_prob", keep_prob)


class Dropout(Module):
    """Inverted dropout (notes): in training, ``d = rand < keep_prob; a = a·d / keep_prob``.

    Dividing by keep_prob keeps the expected activation unchanged, so evaluation is the
    identity and needs no rescaling. ``keep_prob = 1`` turns dropout off.

    Args:
        keep_prob: probability of keeping a unit, in (0, 1].
        rng: ``numpy.random.Generator`` or int seed for the masks.

    Attributes:
        rng: the layer's own Generator; save ``rng.bit_generator.state`` in a checkpoint to
            resume with the same masks.

    Note:
        PyTorch's and Keras' argument is the drop probability ``p = 1 − keep_prob``.
    """

    # In a stacked model (honed.nn.members) ``keep_prob`` is a (P,) array and ``rng`` a list
    # of P Generators, one per member; a member model may lack the layer (keep_prob 1).
    member_settings = ("keep_prob", "rng")
    member_optional = True
    member_absent = {"keep_prob": 1.0, "rng": None}

    def __init__(self, keep_prob: float = 0.5, rng=None):
        super().__init__()
        self.keep_prob = check_keep_prob(keep_prob)
        self.rng = check.as_rng(rng)

    def forward(self, x):
        if not self.training:
            return x
        if self.members is not None:
            return member_dropout(x, self)
        if self.keep_prob == 1.0:
            return x
        return dropout(x, self.keep_prob, self.rng)

    def to_config(self) -> dict:
        return {"keep_prob": self.keep_prob}

    def extra_repr(self) -> str:
        if self.members is not None:  # one per member
            return "keep_prob=[" + ", ".join(f"{k:g}" for k in self.keep_prob) + "]"
        return f"keep_prob={self.keep_prob:g}"


# -- shape ----------------------------------------------------------------------------------
class Flatten(Module):
    """(m, d1, d2, ...) -> (m, d1·d2·...), e.g. 28×28 images to 784-vectors."""

    def forward(self, x):
        if not isinstance(x, Tensor):
            x = np.asarray(x)
        if x.ndim == 2:
            return x
        return reshape(x, (x.shape[0], -1))


# -- containers -----------------------------------------------------------------------------
class Sequential(Module):
    """Layers applied in order: ``Sequential(Dense(2, 4), ReLU(), Dense(4, 1))``.

    A ``Dense`` immediately followed by a ``BatchNorm`` loses its bias ``b`` here: batch
    norm subtracts the mini-batch mean, which cancels any constant added before it, so ``b``
    would get a zero gradient forever; β plays its role (notes).
    """

    def __init__(self, *layers: Module):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential layer {i} is not a Module: {layer!r}")
        self.layers = list(layers)
        _drop_bias_before_batchnorm(self.layers)

    def forward(self, x):
        # ``layer.forward`` rather than ``layer(x)``: one Python call less per layer.
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def append(self, layer: Module) -> Sequential:
        self.layers.append(layer)
        _drop_bias_before_batchnorm(self.layers)
        return self

    def to_config(self) -> dict:
        return {"layers": [module_spec(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        return cls(*[build_module(spec) for spec in config["layers"]])


def _drop_bias_before_batchnorm(layers: list[Module]) -> None:
    for layer, following in zip(layers, layers[1:]):
        if isinstance(layer, (Dense, Maxout)) and isinstance(following, BatchNorm):
            if isinstance(layer, Maxout):
                continue  # the max between them does not commute with a shift
            layer.b = None


# -- perceptron -----------------------------------------------------------------------------
class Perceptron(Module):
    """Rosenblatt's perceptron: ``y = step(x·w + b)`` with the Heaviside step (1 if > 0).

    The weights are fixed values (buffers), not learned by gradient descent: the step has
    zero derivative almost everywhere.

    Args:
        w: weights, shape ``(n_in,)``.
        b: bias (the negative threshold).
    """

    def __init__(self, w, b: float):
        super().__init__()
        self.register_buffer("w", np.asarray(w, np.float64).reshape(-1, 1))
        self.register_buffer("b", np.asarray([b], np.float64))

    def forward(self, x):
        x = np.asarray(x.data if isinstance(x, Tensor) else x, np.float64)
        single = x.ndim == 1
        x = np.atleast_2d(x)
        out = heaviside(Tensor(x @ self.w + self.b)).data[:, 0]
        return out[0] if single else out

    def to_config(self) -> dict:
        return {"w": self.w[:, 0].tolist(), "b": float(self.b[0])}

    def extra_repr(self) -> str:
        return f"w={self.w[:, 0].tolist()}, b={float(self.b[0]):g}"


# These layers run the same ops for every batch of the same shape (no Python branch on the
# data), so a Trainer may capture and replay their steps (``honed.train.capture``).
for _layer in (
    Dense, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softmax, Identity, Maxout, BatchNorm,
    Dropout, Flatten, Sequential,
):  # fmt: skip
    _layer.capturable = True


__all__ = [
    "ACTIVATIONS",
    "BatchNorm",
    "population_activations",
    "Dense",
    "Dropout",
    "ELU",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Maxout",
    "Perceptron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "check_keep_prob",
    "get_activation",
]
