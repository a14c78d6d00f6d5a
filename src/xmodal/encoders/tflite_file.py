"""Read the operators and constant tensors of a TensorFlow Lite model, dequantised to float.

Parsing uses the `tflite` package: the TFLite flatbuffer schema compiled for Python (Apache-2.0,
pure Python, needs only `flatbuffers` and numpy), which tracks TensorFlow's schema releases. It is
a reader, not a runtime: nothing here executes the graph, so towers ported to torch can take their
weights from a `.tflite` file without TensorFlow or LiteRT installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tflite

_OPERATOR_NAMES = {code: name for name, code in vars(tflite.BuiltinOperator).items() if not name.startswith("_")}
_PADDING_NAMES = {code: name for name, code in vars(tflite.Padding).items() if not name.startswith("_")}
_ACTIVATION_NAMES = {
    code: name for name, code in vars(tflite.ActivationFunctionType).items() if not name.startswith("_")
}
_NUMPY_TYPES = {
    tflite.TensorType.FLOAT32: np.float32,
    tflite.TensorType.INT32: np.int32,
    tflite.TensorType.INT8: np.int8,
    tflite.TensorType.UINT8: np.uint8,
    tflite.TensorType.INT64: np.int64,
}
# The options tables this reader understands, by operator; other operators carry no options here.
_OPTION_TABLES = {
    "CONV_2D": tflite.Conv2DOptions,
    "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
    "FULLY_CONNECTED": tflite.FullyConnectedOptions,
}


@dataclass(frozen=True)
class Operator:
    kind: str  # the builtin operator's name, e.g. "CONV_2D"
    inputs: tuple[int, ...]  # tensor indices; -1 marks an omitted optional input
    outputs: tuple[int, ...]
    stride: tuple[int, int] | None = None  # (height, width), convolutions only
    padding: str | None = None  # "SAME" or "VALID", convolutions only
    activation: str | None = None  # fused activation, e.g. "RELU6" or "NONE"


class TfliteGraph:
    """The first subgraph of a model file: its operators in execution order and its tensors."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._model = tflite.Model.GetRootAsModel(data, 0)
        if self._model.SubgraphsLength() < 1:
            raise ValueError("the TFLite model has no subgraph")
        self._graph = self._model.Subgraphs(0)
        self.operators = [self._operator(i) for i in range(self._graph.OperatorsLength())]

    @classmethod
    def read(cls, path: str | Path) -> TfliteGraph:
        return cls(Path(path).read_bytes())

    def _operator(self, index: int) -> Operator:
        op = self._graph.Operators(index)
        code = self._model.OperatorCodes(op.OpcodeIndex())
        # Schema v3 moved builtin codes above 127 to a new field; the old one is kept for older readers.
        kind = _OPERATOR_NAMES.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
        inputs = tuple(int(i) for i in op.InputsAsNumpy()) if op.InputsLength() else ()
        outputs = tuple(int(i) for i in op.OutputsAsNumpy()) if op.OutputsLength() else ()
        table_class = _OPTION_TABLES.get(kind)
        if table_class is None or op.BuiltinOptions() is None:
            return Operator(kind, inputs, outputs)
        table = op.BuiltinOptions()
        options = table_class()
        options.Init(table.Bytes, table.Pos)
        activation = _ACTIVATION_NAMES.get(options.FusedActivationFunction(), "UNKNOWN")
        if kind == "FULLY_CONNECTED":
            return Operator(kind, inputs, outputs, activation=activation)
        stride = (options.StrideH(), options.StrideW())
        return Operator(kind, inputs, outputs, stride, _PADDING_NAMES.get(options.Padding(), "UNKNOWN"), activation)

    def name(self, tensor: int) -> str:
        return self._graph.Tensors(tensor).Name().decode()

    def shape(self, tensor: int) -> tuple[int, ...]:
        tensor_table = self._graph.Tensors(tensor)
        return tuple(int(d) for d in tensor_table.ShapeAsNumpy()) if tensor_table.ShapeLength() else ()

    def raw(self, tensor: int) -> np.ndarray:
        """A constant tensor as stored (int8 weights stay int8); a copy, so it is writable."""
        tensor_table = self._graph.Tensors(tensor)
        dtype = _NUMPY_TYPES.get(tensor_table.Type())
        if dtype is None:
            raise ValueError(f"tensor {tensor} ({self.name(tensor)}) has a type this reader does not handle")
        buffer = self._model.Buffers(tensor_table.Buffer())
        if buffer.DataLength() == 0:
            raise ValueError(f"tensor {tensor} ({self.name(tensor)}) is not a constant")
        return np.frombuffer(buffer.DataAsNumpy().tobytes(), dtype).reshape(self.shape(tensor)).copy()

    def quantisation(self, tensor: int) -> tuple[np.ndarray, np.ndarray, int] | None:
        """(scales, zero points, axis) of an int8 tensor, constant or not; None for a float tensor.
        One scale means per tensor; several run along `axis` (per channel)."""
        parameters = self._graph.Tensors(tensor).Quantization()
        if parameters is None or parameters.ScaleLength() == 0:
            return None
        zero_points = parameters.ZeroPointAsNumpy() if parameters.ZeroPointLength() else np.zeros(1, np.int64)
        return (
            parameters.ScaleAsNumpy().astype(np.float64),
            zero_points.astype(np.float64),
            parameters.QuantizedDimension(),
        )

    def dequantised(self, tensor: int) -> np.ndarray:
        """A constant tensor as float32: `scale * (q - zero_point)`, per axis where quantised per channel."""
        values = self.raw(tensor)
        quantisation = self.quantisation(tensor)
        if quantisation is None:
            return values.astype(np.float32)
        scale, zero_point, axis = quantisation
        if scale.size > 1:  # per channel: the scales (and zero points) run along one axis
            shape = [1] * values.ndim
            shape[axis] = scale.size
            scale = scale.reshape(shape)
            zero_point = zero_point.reshape(shape) if zero_point.size == scale.size else zero_point
        return ((values.astype(np.float64) - zero_point) * scale).astype(np.float32)
