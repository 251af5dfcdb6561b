"""ONNX export: a run's whole path from raw input to probabilities as one graph.

The graph, at opset :data:`OPSET`, takes a float32 input ``input`` of shape ``(N, n)`` holding
the *raw* values a run's ``predict`` takes (image runs: pixels 0..255, each image flattened
row by row) and computes what :meth:`RunBundle.predict_proba` computes::

    a = x · (1/255)                                  image runs (pixels_to_unit)
    a = (a − μ) / σ                                  standard / scalar normalizer fit on train
    a = (a − min) · ((b − a₀)/range) + a₀            minmax normalizer, range (a₀, b)
    network in eval mode:
      Dense        z = a·W + b                       MatMul, Add
      BatchNorm    γ(z − μ_run)/sqrt(σ²_run + ε) + β
                   right after a Dense it is folded into it (exact up to float rounding):
                   W' = W·s, b' = (b − μ_run)·s + β with s = γ/sqrt(σ²_run + ε);
                   elsewhere BatchNormalization with the running statistics
      Dropout      the identity in eval mode: left out
      Maxout       MatMul, Add, Reshape (N, n, k), ReduceMax over the k pieces
      activations  Sigmoid, Tanh, Relu, LeakyRelu, Elu, Softmax; Identity adds no node
    probabilities = softmax(z)        (C logits)
                  = [1 − σ(z), σ(z)]  (one sigmoid logit)
    label = argmax probabilities
    values = z · σ_y + μ_y            (regression: the targets' standardization undone)

Outputs: ``probabilities`` (float32, ``(N, C)``) and ``label`` (int64, ``(N,)``), or for a
regression run ``values`` (float32, ``(N, targets)``). The model's metadata holds
``class_names`` (a JSON list, ``class_names[label]`` names the class; ``target_names`` for
regression), the output kind, the inputs' description and the honed version. Anything the
graph cannot express is refused with its name (:class:`ExportError`), never left out silently.

A table run (``dataset = "table"``) takes one input per feature column, named by the column,
shape ``(N, 1)``: float32 for a number column (NaN where missing), string for a category
column (``""`` where missing), and encodes them as its :class:`~honed.data.TableEncoder` does::

    number column     x                         Where(IsNaN(x), median, x) with impute
    category column   [v == c for c in cats]    ai.onnx.ml LabelEncoder (missing "" → the
                                                most frequent category with impute; unseen → −1)
                                                then Equal with 0..K−1: one-hot, unseen all 0
    features = Concat(columns in training order)

Where honed refuses a row (a missing value without impute, an unseen category without
``unknown_category = "ignore"``), a graph cannot raise: the missing number stays NaN (so are
the outputs of its row) and the unseen category is all zeros; the metadata says so.

>>> import onnxruntime as ort
>>> session = ort.InferenceSession("model.onnx")
>>> proba, label = session.run(None, {"input": pixels.reshape(len(pixels), -1).astype("float32")})
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

#: The ONNX operator set the graph is written for (onnxruntime ≥ 1.13 runs it).
OPSET = 17

#: The ai.onnx.ml operator set of a table run's category encoding (LabelEncoder).
ML_OPSET = 3

INPUT, PROBABILITIES, LABEL = "input", "probabilities", "label"
LOGITS, VALUES = "logits", "values"
OUTPUTS = (PROBABILITIES, LABEL, LOGITS, VALUES)


class ExportError(ValueError):
    """Something in a run or model has no ONNX form; the message names it."""


class OnnxMissing(ImportError):
    """The onnx package is not installed (the ``onnx`` extra)."""


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise OnnxMissing(
            "exporting to ONNX needs the onnx package, which is not installed: "
            "pip install 'honed[onnx]'"
        ) from None
    return onnx


class _Graph:
    """Nodes and constants of one ONNX graph, with fresh names for intermediate values."""

    def __init__(self, onnx, inputs=()):
        self.onnx = onnx
        self.nodes, self.initializers = [], []
        self._count = 0
        self._taken = {*inputs, *OUTPUTS}  # a table's column may be called "encoded_3"

    def fresh(self, prefix: str) -> str:
        name = prefix
        while name in self._taken:
            self._count += 1
            name = f"{prefix}_{self._count}"
        self._taken.add(name)
        return name

    def const(self, prefix: str, value, dtype=np.float32) -> str:
        name = self.fresh(prefix)
        array = np.asarray(value, dtype=dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name=name))
        return name

    def op(self, op_type: str, inputs: list[str], prefix: str | None = None, out=None, **attrs):
        out = out or self.fresh(prefix or op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [out], **attrs))
        return out


# -- inputs ---------------------------------------------------------------------------------
def _table_inputs(g: _Graph, table) -> tuple[str, list, list[str]]:
    """One input per column of a table run, encoded as its TableEncoder does.

    Returns (the encoded float32 features, the graph inputs, description).
    """
    from onnx import TensorProto, helper

    clash = [name for name in table.columns if name in OUTPUTS]
    if clash:
        raise ExportError(
            f"cannot export: the table column {clash[0]!r} has the name of a graph output "
            f"({', '.join(OUTPUTS)}); rename the column and train again"
        )
    impute = table.missing == "impute"
    inputs, parts = [], []
    for j, (name, kind) in enumerate(zip(table.columns, table.kinds)):
        if kind == "number":
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 1]))
            x = name
            if impute:
                fill = g.const("median", np.float32(table.fill_numbers[j]))
                x = g.op("Where", [g.op("IsNaN", [name]), fill, name], "imputed")
            parts.append(x)
        elif kind == "category":
            inputs.append(helper.make_tensor_value_info(name, TensorProto.STRING, ["N", 1]))
            cats = list(table.categories[j])
            keys, values = list(cats), list(range(len(cats)))
            if impute and table.fill_categories[j] in cats:
                keys.append("")  # a missing category: the most frequent training one
                values.append(cats.index(table.fill_categories[j]))
            index = g.op(
                "LabelEncoder",
                [name],
                "category_index",
                domain="ai.onnx.ml",
                keys_strings=keys,
                values_int64s=values,
                default_int64=-1,
            )
            hot = g.op("Equal", [index, g.const("codes", np.arange(len(cats)), np.int64)])
            parts.append(g.op("Cast", [hot], "one_hot", to=TensorProto.FLOAT))
        else:
            raise ExportError(f"cannot export the table column {name!r} of kind {kind!r}")
    x = g.op("Concat", parts, "encoded", axis=1) if len(parts) > 1 else parts[0]
    n_cat = table.kinds.count("category")
    steps = [
        f"table: {len(table.columns) - n_cat} number and {n_cat} category columns → "
        f"{table.n_outputs} features (one-hot{', imputed' if impute else ''})"
    ]
    return x, inputs, steps


def _refused_rows(table) -> str:
    """What the graph does with the rows honed would refuse (a graph cannot raise)."""
    if table.missing == "impute":
        missing = "missing values are imputed (training median / most frequent category)"
    else:
        missing = (
            "honed refuses a missing value; here a missing number makes its row's outputs "
            "NaN and a missing category is all zeros"
        )
    if table.unknown == "ignore":
        unknown = "an unseen category is all zeros (as in honed)"
    else:
        unknown = "honed refuses an unseen category; here it is all zeros"
    return f"{missing}; {unknown}"


def _inputs(g: _Graph, run) -> tuple[str, list, list[str], str]:
    """The graph's inputs and the run's preprocessing as nodes.

    Returns (the model's input, graph inputs, description of the steps, input description).
    """
    from onnx import TensorProto, helper

    table = getattr(run, "table", None)
    if table is not None:
        x, inputs, steps = _table_inputs(g, table)
        doc = (
            "one input per column, (N, 1): float32 for numbers (NaN where missing), string "
            'for categories ("" where missing)'
        )
    else:
        x = INPUT
        inputs = [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", run.n_features])]
        what = "pixels 0..255, each image flattened row by row" if run.pixels else "raw features"
        doc, steps = f"{INPUT}: float32 (N, {run.n_features}), {what}", []
    x, more = _preprocessing(g, x, run)
    return x, inputs, steps + more, doc


def _preprocessing(g: _Graph, x: str, run) -> tuple[str, list[str]]:
    """The run's pixel scaling and normalizer as nodes; returns (output, description)."""
    from honed.data.preprocessing import MinMaxScaler, Standardizer

    steps = []
    if run.pixels:
        # pixels_to_unit multiplies by float32(1/255): the same constant, the same rounding.
        x = g.op("Mul", [x, g.const("pixel_scale", np.float32(1 / 255))], "pixels")
        steps.append("x / 255")
    norm = run.normalizer
    if norm is None:
        return x, steps
    flat = (run.n_features,)
    if isinstance(norm, Standardizer):
        mean = np.broadcast_to(norm.mean_, norm.feature_shape_).reshape(flat)
        std = np.broadcast_to(norm.std_, norm.feature_shape_).reshape(flat)
        # Standardizer.transform rounds μ and σ to float32 first, then subtracts and divides.
        x = g.op("Sub", [x, g.const("norm_mean", mean)], "centred")
        x = g.op("Div", [x, g.const("norm_std", std)], "normalized")
        steps.append("(x − μ) / σ fit on train")
    elif isinstance(norm, MinMaxScaler):
        lo, hi = norm.feature_range
        scale = (hi - lo) / norm.data_range_
        x = g.op("Sub", [x, g.const("minmax_min", np.broadcast_to(norm.data_min_, flat))])
        x = g.op("Mul", [x, g.const("minmax_scale", np.broadcast_to(scale, flat))])
        x = g.op("Add", [x, g.const("minmax_low", np.float32(lo))], "normalized")
        steps.append(f"min-max to ({lo:g}, {hi:g}) fit on train")
    else:
        raise ExportError(f"cannot export the normalizer {norm!r} to ONNX")
    return x, steps


# -- network --------------------------------------------------------------------------------
def _flat_layers(model) -> list:
    """The model's layers in order, nested Sequentials opened, in eval mode."""
    from honed.nn.layers import Sequential

    if isinstance(model, Sequential):
        return [leaf for layer in model.layers for leaf in _flat_layers(layer)]
    return [model]


def _batch_norm_scale(bn) -> tuple[np.ndarray, np.ndarray]:
    """``(s, shift)`` with ``bn(z) = z·s + shift``, in float64."""
    s = np.asarray(bn.gamma.data, np.float64) / np.sqrt(
        np.asarray(bn.running_var, np.float64) + bn.eps
    )
    shift = np.asarray(bn.beta.data, np.float64) - np.asarray(bn.running_mean, np.float64) * s
    return s, shift


def _dense(g: _Graph, x: str, W, b, prefix: str) -> str:
    z = g.op("MatMul", [x, g.const(f"{prefix}_W", W)], f"{prefix}_matmul")
    if b is None:
        return z
    return g.op("Add", [z, g.const(f"{prefix}_b", b)], prefix)


def _activation(g: _Graph, x: str, layer) -> str | None:
    """The node of an activation layer, or None when ``layer`` is not one."""
    from honed.nn import layers as L

    if isinstance(layer, L.Identity):
        return x
    if isinstance(layer, L.Sigmoid):
        return g.op("Sigmoid", [x])
    if isinstance(layer, L.Tanh):
        return g.op("Tanh", [x])
    if isinstance(layer, L.ReLU):
        return g.op("Relu", [x])
    if isinstance(layer, L.LeakyReLU):
        return g.op("LeakyRelu", [x], alpha=layer.slope)
    if isinstance(layer, L.ELU):
        return g.op("Elu", [x], alpha=layer.alpha)
    if isinstance(layer, L.Softmax):
        return g.op("Softmax", [x], axis=layer.axis)
    return None


def _network(g: _Graph, x: str, model, fold_batch_norm: bool) -> tuple[str, list[str]]:
    """The model's eval-mode forward as nodes; returns (logits, description)."""
    from honed.nn import layers as L

    # Dropout is the identity in eval mode; leaving it out also lets a BatchNorm after
    # "Dense → Dropout" fold (no such order in an MLP, but nothing lost where it occurs).
    layers = [layer for layer in _flat_layers(model) if not isinstance(layer, L.Dropout)]
    steps, i = [], 0
    while i < len(layers):
        layer, following = layers[i], layers[i + 1] if i + 1 < len(layers) else None
        kind = type(layer).__name__
        if isinstance(layer, L.Dense):
            W = np.asarray(layer.W.data, np.float64)
            b = None if layer.b is None else np.asarray(layer.b.data, np.float64)
            if fold_batch_norm and isinstance(following, L.BatchNorm):
                s, shift = _batch_norm_scale(following)
                b = (np.zeros(W.shape[1]) if b is None else b) * s + shift
                W = W * s
                steps.append(f"Dense({layer.n_in}, {layer.n_out}) with BatchNorm folded in")
                i += 1
            else:
                steps.append(f"Dense({layer.n_in}, {layer.n_out})")
            x = _dense(g, x, W, b, "dense")
        elif isinstance(layer, L.BatchNorm):
            x = g.op(
                "BatchNormalization",
                [
                    x,
                    g.const("bn_gamma", layer.gamma.data),
                    g.const("bn_beta", layer.beta.data),
                    g.const("bn_mean", layer.running_mean),
                    g.const("bn_var", layer.running_var),
                ],
                "batchnorm",
                epsilon=layer.eps,
            )
            steps.append(f"BatchNorm({layer.n}) with running statistics")
        elif isinstance(layer, L.Maxout):
            z = _dense(g, x, layer.W.data, None if layer.b is None else layer.b.data, "maxout")
            grouped = g.op(
                "Reshape",
                [z, g.const("maxout_shape", [0, layer.n_out, layer.pieces], np.int64)],
                "maxout_pieces",
            )
            x = g.op("ReduceMax", [grouped], "maxout", axes=[2], keepdims=0)
            steps.append(f"Maxout({layer.n_in}, {layer.n_out}, pieces={layer.pieces})")
        elif isinstance(layer, L.Flatten):
            x = g.op("Flatten", [x], axis=1)
        else:
            out = _activation(g, x, layer)
            if out is None:
                raise ExportError(
                    f"cannot export layer {kind} ({layer!r}) to ONNX: honed has no ONNX form for it"
                )
            x = out
            steps.append(kind)
        i += 1
    return x, steps


def _output(g: _Graph, z: str, run, n_logits: int) -> list[str]:
    """Probabilities and label from the logits, as ``RunBundle.predict_proba`` computes them
    (regression: the values, as ``RunBundle.predict_values``)."""
    output = run.output
    if getattr(run, "task", "classification") == "regression":
        scaler = getattr(run, "target_scaler", None)
        if scaler is None:
            g.op("Identity", [z], out=VALUES)
        else:
            std = np.broadcast_to(scaler.std_, (n_logits,))
            mean = np.broadcast_to(scaler.mean_, (n_logits,))
            z = g.op("Mul", [z, g.const("target_std", std)], "unscaled")
            g.op("Add", [z, g.const("target_mean", mean)], out=VALUES)
        return [VALUES]
    if output == "sigmoid" or (output is not None and n_logits == 1):
        p = g.op("Sigmoid", [z], "p1")
        q = g.op("Sub", [g.const("one", np.float32(1)), p], "p0")
        proba = g.op("Concat", [q, p], out=PROBABILITIES, axis=1)
    elif output == "softmax":
        proba = g.op("Softmax", [z], out=PROBABILITIES, axis=1)
    else:
        g.op("Identity", [z], out=LOGITS)
        return [LOGITS]
    g.op("ArgMax", [proba], out=LABEL, axis=1, keepdims=0)
    return [PROBABILITIES, LABEL]


def _n_outputs(model, n_features: int) -> int:
    from honed.autograd import Tensor, no_grad

    modules = [m for _, m in model.named_modules()] if hasattr(model, "named_modules") else []
    modes = [(m, m.training) for m in modules]
    model.eval()
    try:
        with no_grad():
            return int(model(Tensor(np.zeros((2, n_features), np.float32))).data.shape[1])
    finally:
        for m, training in modes:  # exporting leaves the caller's model as it was
            m.training = training


def _n_inputs(model) -> int:
    from honed.nn import layers as L

    for layer in _flat_layers(model):
        if isinstance(layer, (L.Dense, L.Maxout)):
            return layer.n_in
    raise ExportError(
        f"cannot tell the input width of {type(model).__name__}: it has no Dense or Maxout "
        "layer (export a run instead)"
    )


class _BareModel:
    """A model without a run: no preprocessing, the model's own output kind."""

    pixels, normalizer, class_names, run_dir = False, None, None, None

    def __init__(self, model):
        self.model = model
        self.n_features = _n_inputs(model)
        self.output = getattr(model, "_config", {}).get("output")


def _as_run(source):
    from honed.experiment.bundle import RunBundle, load_run
    from honed.nn.module import Module

    if isinstance(source, RunBundle):
        return source
    if isinstance(source, Module):
        return _BareModel(source)
    if isinstance(source, (str, Path)):
        return load_run(source)
    raise TypeError(
        f"to_onnx takes a run (RunBundle or run directory) or a honed Module, got "
        f"{type(source).__name__}"
    )


def to_onnx(source, *, fold_batch_norm: bool = True):
    """The ONNX model of a run (raw input → probabilities) or of a bare model.

    Args:
        source: a :class:`~honed.experiment.bundle.RunBundle`, a run directory, or a honed
            ``Module`` (then without preprocessing: the input is what the model takes, and
            the output is its ``output`` kind, logits where it has none).
        fold_batch_norm: fold each BatchNorm that directly follows a Dense into it
            (``W' = W·s``, ``b' = (b − μ)·s + β``); False keeps BatchNormalization nodes.

    Returns:
        An ``onnx.ModelProto`` at opset :data:`OPSET`, checked by ``onnx.checker``.

    Raises:
        ExportError: a layer or normalizer with no ONNX form (named in the message).
        OnnxMissing: the onnx package is missing (``pip install 'honed[onnx]'``).
    """
    onnx = _require_onnx()
    from onnx import TensorProto, helper

    import honed

    run = _as_run(source)
    model = run.model
    table = getattr(run, "table", None)
    g = _Graph(onnx, inputs=table.columns if table is not None else [INPUT])
    x, inputs, pre, input_doc = _inputs(g, run)
    z, net = _network(g, x, model, fold_batch_norm)
    n_logits = _n_outputs(model, int(run.n_features))
    outputs = _output(g, z, run, n_logits)
    n_out = 2 if outputs[0] == PROBABILITIES and n_logits == 1 else n_logits

    value_info = {
        PROBABILITIES: helper.make_tensor_value_info(
            PROBABILITIES, TensorProto.FLOAT, ["N", n_out]
        ),
        LABEL: helper.make_tensor_value_info(LABEL, TensorProto.INT64, ["N"]),
        LOGITS: helper.make_tensor_value_info(LOGITS, TensorProto.FLOAT, ["N", n_out]),
        VALUES: helper.make_tensor_value_info(VALUES, TensorProto.FLOAT, ["N", n_out]),
    }
    graph = helper.make_graph(
        g.nodes,
        "honed",
        inputs,
        [value_info[name] for name in outputs],
        initializer=g.initializers,
        doc_string="; ".join([*pre, *net]),
    )
    opsets = [helper.make_opsetid("", OPSET)]
    if any(node.domain == "ai.onnx.ml" for node in g.nodes):
        opsets.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    proto = helper.make_model(
        graph,
        opset_imports=opsets,
        ir_version=helper.find_min_ir_version_for(opsets),
        producer_name="honed",
        producer_version=honed.__version__,
        doc_string=f"inputs: {input_doc}; outputs: {', '.join(outputs)}",
    )
    metadata = {
        "input": input_doc,
        "preprocessing": "; ".join(pre) or "none",
        "output": run.output or "logits",
        "honed_version": honed.__version__,
    }
    if outputs[0] == VALUES:
        names = getattr(run, "target_names", None) or [f"y{i}" for i in range(n_out)]
        metadata["target_names"] = json.dumps(list(names))
    elif run.class_names is not None:
        metadata["class_names"] = json.dumps(list(run.class_names))
    if table is not None:
        metadata["columns"] = json.dumps(
            [
                {"name": n, "kind": k, **({"categories": c} if k == "category" else {})}
                for n, k, c in zip(table.columns, table.kinds, table.categories)
            ]
        )
        metadata["refused_rows"] = _refused_rows(table)
    if run.run_dir is not None:
        metadata["run"] = Path(run.run_dir).name
    helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def save_onnx(source, path, **options) -> Path:
    """:func:`to_onnx` written to ``path`` (atomically: the old file or the complete new one)."""
    from honed.train.durable import atomic_write

    proto = to_onnx(source, **options)
    return atomic_write(path, proto.SerializeToString())


__all__ = ["ML_OPSET", "OPSET", "ExportError", "OnnxMissing", "save_onnx", "to_onnx"]
