"""Exporting a trained run for use outside honed.

``honed export RUN --format onnx --out model.onnx`` and :func:`to_onnx` write one ONNX graph
from the run's raw inputs to its probabilities (see :mod:`honed.export.onnx`). The ``onnx``
package is imported only here, when an export is asked for (the ``onnx`` extra).
"""

from __future__ import annotations

from honed.export.onnx import OPSET, ExportError, OnnxMissing, save_onnx, to_onnx

#: Formats ``honed export --format`` writes.
FORMATS = ("onnx",)

__all__ = ["FORMATS", "OPSET", "ExportError", "OnnxMissing", "save_onnx", "to_onnx"]
