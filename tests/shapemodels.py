"""Small graphs of int32 shape arithmetic and FILL, written straight with the TFLite schema (no converter): the
tensors, shapes, shape signatures and quantization are exactly the ones a test names, including the placeholder
shapes a converter stores downstream of a run-time RESHAPE.

    from tests import shapemodels as sm
    blob = sm.dynamic_reshapes()          # SHAPE -> STRIDED_SLICE / GATHER -> REDUCE_PROD / PACK -> RESHAPE
"""

from __future__ import annotations

import numpy as np


class Graph:
    """One subgraph under construction: tensors (constants get their own buffer), operators, inputs, outputs."""

    def __init__(self) -> None:
        from ai_edge_litert import schema_py_generated as schema

        self.s = schema
        self.tensors: list = []
        self.buffers = [schema.BufferT()]  # buffer 0: the empty buffer of every non-constant tensor
        self.codes: list[int] = []
        self.ops: list = []
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    def tensor(self, name: str, shape, dtype: str = "int8", quant: tuple[float, int] | None = None,
               signature=None, data: np.ndarray | None = None) -> int:
        t = self.s.TensorT()
        t.name = name
        t.shape = list(shape)
        if signature is not None:
            t.shapeSignature = list(signature)
        t.type = {"int8": self.s.TensorType.INT8, "int32": self.s.TensorType.INT32}[dtype]
        if quant is not None:
            q = self.s.QuantizationParametersT()
            q.scale, q.zeroPoint = [float(quant[0])], [int(quant[1])]
            t.quantization = q
        t.buffer = 0
        if data is not None:
            b = self.s.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data, dtype=dtype).tobytes(), dtype=np.uint8)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def const(self, name: str, values, dtype: str = "int32") -> int:
        v = np.asarray(values, dtype=dtype)
        return self.tensor(name, v.shape, dtype, data=v)

    def op(self, name: str, inputs, outputs, options: str | None = None, **fields) -> None:
        code = getattr(self.s.BuiltinOperator, name)
        if code not in self.codes:
            self.codes.append(code)
        o = self.s.OperatorT()
        o.opcodeIndex = self.codes.index(code)
        o.inputs, o.outputs = list(inputs), list(outputs)
        if options is not None:
            o.builtinOptionsType = getattr(self.s.BuiltinOptions, options)
            o.builtinOptions = getattr(self.s, options + "T")()
            for k, v in fields.items():
                setattr(o.builtinOptions, k, v)
        self.ops.append(o)

    def build(self) -> bytes:
        import flatbuffers

        s = self.s
        m = s.ModelT()
        m.version = 3
        m.description = "edgelift tests/shapemodels.py"
        for code in self.codes:
            c = s.OperatorCodeT()
            c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
            m.operatorCodes = (m.operatorCodes or []) + [c]
        sg = s.SubGraphT()
        sg.tensors, sg.operators, sg.inputs, sg.outputs = self.tensors, self.ops, self.inputs, self.outputs
        m.subgraphs = [sg]
        m.buffers = self.buffers
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def fill(value_quant: tuple[float, int], out_quant: tuple[float, int], dims=(2, 3, 5)) -> bytes:
    """FILL of constant dims with an int8 scalar model input (the value), int8 output."""
    g = Graph()
    v = g.tensor("value", (), "int8", value_quant)
    d = g.const("dims", dims)
    y = g.tensor("filled", dims, "int8", out_quant)
    g.op("FILL", [d, v], [y], "FillOptions")
    g.inputs, g.outputs = [v], [y]
    return g.build()


def fill_int32(dims=(4, 7)) -> bytes:
    """FILL of constant dims with an int32 scalar model input."""
    g = Graph()
    v = g.tensor("value", (), "int32")
    d = g.const("dims", dims)
    y = g.tensor("filled", dims, "int32")
    g.op("FILL", [d, v], [y], "FillOptions")
    g.inputs, g.outputs = [v], [y]
    return g.build()


Q = (0.05, -3)  # the activations' quantization (every int8 tensor of the dynamic graphs)


def dynamic_reshapes(rows: int = 6, cols: int = 4) -> bytes:
    """A dynamic-batch graph ([-1, rows, cols]) that computes its reshapes like a converted Keras model:

        s = SHAPE(x); b = STRIDED_SLICE(s)[0] (shrunk); n = REDUCE_PROD(GATHER(s, [1, 2]))
        flat = RESHAPE(x, PACK(b, n))                        -> [b, rows * cols]   (file: [1, 1])
        boxes = RESHAPE(flat, CONCATENATION(GATHER(s, [0]), [-1, 2]))  -> [b, rows * cols / 2, 2] (file: [1, 1, 2])
        gamma = FILL(RESHAPE(n, [1]), 0.5)                  -> [rows * cols]        (file: [1])
        count = RESHAPE(n, [1]) (an int32 output); kept = REDUCE_PROD(GATHER(s, [1, 2]), keep_dims) -> [1]

    The outputs' stored shapes are the converter's placeholders; only inference gives them their sizes.
    """
    g = Graph()
    x = g.tensor("x", (1, rows, cols), "int8", Q, signature=(-1, rows, cols))
    s = g.tensor("shape", (3,), "int32")
    g.op("SHAPE", [x], [s], "ShapeOptions", outType=g.s.TensorType.INT32)
    b = g.tensor("batch", (), "int32")
    g.op("STRIDED_SLICE", [s, g.const("begin", [0]), g.const("end", [1]), g.const("strides", [1])], [b],
         "StridedSliceOptions", shrinkAxisMask=1)
    hw = g.tensor("hw", (2,), "int32")
    g.op("GATHER", [s, g.const("hw_idx", [1, 2])], [hw], "GatherOptions", axis=0)
    n = g.tensor("n", (), "int32")
    g.op("REDUCE_PROD", [hw, g.const("axis", [0])], [n], "ReducerOptions", keepDims=False)
    target = g.tensor("target", (2,), "int32")
    g.op("PACK", [b, n], [target], "PackOptions", valuesCount=2, axis=0)
    flat = g.tensor("flat", (1, 1), "int8", Q, signature=(-1, -1))
    g.op("RESHAPE", [x, target], [flat], "ReshapeOptions")
    lead = g.tensor("lead", (1,), "int32")
    g.op("GATHER", [s, g.const("lead_idx", [0])], [lead], "GatherOptions", axis=0)
    box_shape = g.tensor("box_shape", (3,), "int32")
    g.op("CONCATENATION", [lead, g.const("rest", [-1, 2])], [box_shape], "ConcatenationOptions", axis=0)
    boxes = g.tensor("boxes", (1, 1, 2), "int8", Q, signature=(-1, -1, 2))
    g.op("RESHAPE", [flat, box_shape], [boxes], "ReshapeOptions")
    count = g.tensor("count", (1,), "int32")
    g.op("RESHAPE", [n, g.const("one", [1])], [count], "ReshapeOptions")
    half = g.tensor("half", (), "int8", Q, data=np.int8(7))
    gamma = g.tensor("gamma", (1,), "int8", Q, signature=(-1,))
    g.op("FILL", [count, half], [gamma], "FillOptions")
    kept = g.tensor("kept", (1,), "int32")
    g.op("REDUCE_PROD", [hw, g.const("axis_kept", [0])], [kept], "ReducerOptions", keepDims=True)
    g.inputs, g.outputs = [x], [boxes, box_shape, count, gamma, kept]
    return g.build()


def runtime_shape_reshape() -> bytes:
    """RESHAPE to a shape given as a model input: known only at run time, so it stays with the runtime."""
    g = Graph()
    x = g.tensor("x", (1, 6), "int8", Q)
    shape = g.tensor("shape", (2,), "int32")
    y = g.tensor("y", (2, 3), "int8", Q)
    g.op("RESHAPE", [x, shape], [y], "ReshapeOptions")
    g.inputs, g.outputs = [x, shape], [y]
    return g.build()


def int32_data_ops() -> bytes:
    """int32 CONCATENATION (axis 1 of two 2-D inputs) and RESHAPE of model inputs: run-time int32 data, not
    shapes the delegate can fold, moved exactly (4 bytes an element)."""
    g = Graph()
    a = g.tensor("a", (3, 2), "int32")
    b = g.tensor("b", (3, 5), "int32")
    ab = g.tensor("ab", (3, 7), "int32")
    g.op("CONCATENATION", [a, b], [ab], "ConcatenationOptions", axis=1)
    flat = g.tensor("flat", (7, 3), "int32")
    g.op("RESHAPE", [ab, g.const("to", [-1, 3])], [flat], "ReshapeOptions")
    g.inputs, g.outputs = [a, b], [ab, flat]
    return g.build()
