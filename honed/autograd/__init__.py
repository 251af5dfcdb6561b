"""Reverse-mode automatic differentiation on NumPy: write the forward pass, get gradients."""

from honed.autograd.function import Function, enable_grad, is_grad_enabled, no_grad, unbroadcast
from honed.autograd.tensor import DEFAULT_DTYPE, Parameter, Tensor
from honed.autograd.ops import (
    abs,
    add,
    as_tensor,
    cast,
    clip,
    concatenate,
    div,
    exp,
    getitem,
    log,
    matmul,
    max,
    maximum,
    mean,
    mul,
    neg,
    pow,
    reshape,
    sqrt,
    sub,
    sum,
    transpose,
    where,
)
from honed.autograd.functional import (
    batch_norm,
    batch_norm_inference,
    dropout,
    elu,
    heaviside,
    leaky_relu,
    linear,
    log_softmax,
    maxout,
    relu,
    sigmoid,
    sigmoid_cross_entropy,
    softmax,
    softmax_cross_entropy,
    sum_of_squares,
    tanh,
)
from honed.autograd.gradcheck import GradCheckResult, gradcheck, relative_error, verdict

__all__ = [
    "DEFAULT_DTYPE", "Function", "GradCheckResult", "Parameter", "Tensor", "abs", "add",
    "as_tensor", "batch_norm", "batch_norm_inference", "cast", "clip", "concatenate", "div",
    "dropout", "elu", "enable_grad", "exp", "getitem", "gradcheck", "heaviside",
    "is_grad_enabled", "leaky_relu", "linear", "log", "log_softmax", "matmul", "max",
    "maximum", "maxout", "mean", "mul", "neg", "no_grad", "pow", "relative_error", "relu",
    "reshape", "sigmoid", "sigmoid_cross_entropy", "softmax", "softmax_cross_entropy", "sqrt",
    "sub", "sum", "sum_of_squares", "tanh", "transpose", "unbroadcast", "verdict", "where",
]
