"""Read a .tflite flatbuffer into plain Python objects, through the schema module LiteRT ships.

Used by `inspect`, per-layer diagnosis and the GPU lowering. No TensorFlow import; needs `ai_edge_litert`
(desktop) for the generated schema and `flatbuffers`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidModelError, ModelNotFoundError

_TFLITE_IDENTIFIER = b"TFL3"


def _schema():
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def _enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


_DTYPES = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64,
    "INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "UINT16": np.uint16,
    "INT32": np.int32, "UINT32": np.uint32, "INT64": np.int64, "UINT64": np.uint64, "BOOL": np.bool_,
}


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    type_name: str  # TFLite's name: INT8, FLOAT32, INT4, ...
    buffer_index: int
    scales: np.ndarray  # float32, empty when not quantized
    zero_points: np.ndarray  # int64, empty when not quantized
    quantized_dimension: int
    data: np.ndarray | None  # constant data, reshaped; None for activations
    shape_signature: tuple[int, ...] | None = None
    sparsity: Any = None  # the schema's SparsityParametersT when the tensor is stored sparse

    @property
    def dtype(self) -> np.dtype | None:
        t = _DTYPES.get(self.type_name)
        return np.dtype(t) if t is not None else None

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def is_quantized(self) -> bool:
        return self.scales.size > 0

    @property
    def per_channel(self) -> bool:
        return self.scales.size > 1

    @property
    def nbytes(self) -> int:
        return 0 if self.data is None else int(self.data.nbytes)


@dataclass
class Operator:
    index: int
    op_name: str  # e.g. CONV_2D, or the custom code for custom ops
    version: int
    inputs: tuple[int, ...]  # tensor indices; -1 marks an omitted optional input
    outputs: tuple[int, ...]
    options: Any  # the schema's *OptionsT object, or None
    options_name: str | None
    is_custom: bool = False
    intermediates: tuple[int, ...] = field(default_factory=tuple)

    def option(self, name: str, default: Any = None) -> Any:
        return getattr(self.options, name, default) if self.options is not None else default


class TFLiteModel:
    """The main subgraph of a .tflite model: tensors (with constant data) and operators in execution order."""

    def __init__(self, content: bytes, path: str | None = None):
        self.content = content
        self.path = path
        if len(content) < 8 or content[4:8] != _TFLITE_IDENTIFIER:
            where = f"{path!r}" if path else "the given bytes"
            raise InvalidModelError(
                f"{where} is not a TFLite flatbuffer (expected identifier 'TFL3' at byte 4, "
                f"found {content[4:8]!r}, {len(content)} bytes in all)",
                hint="pass a .tflite produced by `edgelift convert` or the TFLite converter",
            )
        schema = _schema()
        try:
            self.model = schema.ModelT.InitFromPackedBuf(content, 0)
            if not self.model.subgraphs:
                raise ValueError("no subgraphs")
            self._build()
        except InvalidModelError:
            raise
        except Exception as exc:  # flatbuffers raises bare errors on truncated data
            where = f"{path!r}" if path else "the given bytes"
            raise InvalidModelError(
                f"{where} is a corrupt or truncated .tflite ({len(content)} bytes): {type(exc).__name__}: {exc}",
                hint="re-export the model; a partial download or copy is the usual cause",
            ) from None

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> TFLiteModel:
        p = Path(path)
        if not p.exists():
            raise ModelNotFoundError(f"model file {str(p)!r} does not exist", hint="check the path")
        if p.is_dir():
            raise InvalidModelError(f"{str(p)!r} is a directory, not a .tflite file", hint="pass the .tflite file")
        return cls(p.read_bytes(), path=str(p))

    # -- construction ---------------------------------------------------------------------------------
    def _build(self) -> None:
        schema = _schema()
        op_names = _enum_names(schema.BuiltinOperator)
        type_names = _enum_names(schema.TensorType)
        options_names = _enum_names(schema.BuiltinOptions)
        sg = self.model.subgraphs[0]
        buffers = self.model.buffers or []

        self.tensors: list[Tensor] = []
        # bytes of buffers stored after the flatbuffer (counted once per buffer, however many tensors share it)
        self.external_buffer_bytes = sum(int(b.size or 0) for b in buffers if b is not None and int(b.offset or 0) > 1)
        for i, t in enumerate(sg.tensors or []):
            type_name = type_names.get(t.type, f"TYPE_{t.type}")
            shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
            q = t.quantization
            scales = np.asarray(q.scale if q is not None and q.scale is not None else [], dtype=np.float32)
            zps = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], dtype=np.int64)
            qdim = int(q.quantizedDimension) if q is not None else 0
            data = None
            buf = buffers[t.buffer] if 0 < t.buffer < len(buffers) else None
            raw = self._buffer_bytes(buf, t.buffer) if buf is not None else None
            if raw is not None and len(raw) > 0:
                data = self._decode(np.asarray(raw, dtype=np.uint8), type_name, shape, t.sparsity is not None)
            sig = tuple(int(d) for d in t.shapeSignature) if t.shapeSignature is not None else None
            name = t.name.decode() if isinstance(t.name, bytes) else (t.name or "")
            self.tensors.append(
                Tensor(i, name, shape, type_name, int(t.buffer), scales, zps, qdim, data, sig, t.sparsity)
            )

        codes = self.model.operatorCodes or []
        self.operators: list[Operator] = []
        for i, op in enumerate(sg.operators or []):
            if not 0 <= op.opcodeIndex < len(codes):
                where = repr(self.path) if self.path else "the model"
                raise InvalidModelError(f"{where}: operator {i}'s opcode index is {op.opcodeIndex}; allowed "
                                        f"0..{len(codes) - 1}",
                                        hint="the file is inconsistent: re-export or convert the model again")
            code = codes[op.opcodeIndex]
            builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
            name = op_names.get(builtin, f"OP_{builtin}")
            custom = name == "CUSTOM"
            if custom:
                cc = code.customCode
                name = cc.decode() if isinstance(cc, bytes) else str(cc)
            opts = op.builtinOptions if op.builtinOptions is not None else op.builtinOptions2
            opt_name = options_names.get(op.builtinOptionsType) if op.builtinOptions is not None else None
            self.operators.append(
                Operator(
                    i, name, int(code.version),
                    tuple(int(x) for x in (op.inputs if op.inputs is not None else ())),
                    tuple(int(x) for x in (op.outputs if op.outputs is not None else ())),
                    opts, opt_name, custom,
                    tuple(int(x) for x in (op.intermediates if op.intermediates is not None else ())),
                )
            )
        self.inputs = tuple(int(x) for x in (sg.inputs if sg.inputs is not None else ()))
        self.outputs = tuple(int(x) for x in (sg.outputs if sg.outputs is not None else ()))
        self._check_indices()

    def _check_indices(self) -> None:
        """Every tensor and operator-code index in range: a file that breaks this would make the runtime fail
        later ("inconsistent model") or, in a reader that trusts it, read past an array."""
        n = len(self.tensors)
        where = f"{self.path!r}" if self.path else "the model"

        def bad(what: str, value: int, allowed: str):
            raise InvalidModelError(f"{where}: {what} is {value}; allowed {allowed}",
                                    hint="the file is inconsistent: re-export or convert the model again")

        for role, indices in (("subgraph input", self.inputs), ("subgraph output", self.outputs)):
            for k, t in enumerate(indices):
                if not 0 <= t < n:
                    bad(f"{role} {k}", t, f"0..{n - 1} (the subgraph has {n} tensors)")
        for op in self.operators:
            for role, indices, optional in (("input", op.inputs, True), ("output", op.outputs, False),
                                            ("intermediate", op.intermediates, False)):
                for k, t in enumerate(indices):
                    if not (0 <= t < n or (optional and t == -1)):
                        bad(f"operator {op.index} ({op.op_name}) {role} {k}", t,
                            f"0..{n - 1}{' or -1 (omitted)' if optional else ''} (the subgraph has {n} tensors)")

    def _buffer_bytes(self, buf, index: int):
        """A buffer's bytes: inside the flatbuffer, or after it (offset/size, as large-model writers and
        ai-edge-quantizer store weights; offset 1 is the schema's "not set" marker)."""
        offset, size = int(getattr(buf, "offset", 0) or 0), int(getattr(buf, "size", 0) or 0)
        if offset > 1:
            if offset + size > len(self.content):
                where = repr(self.path) if self.path else "the model"
                raise InvalidModelError(f"{where}: buffer {index} lies at bytes {offset}..{offset + size}, past the "
                                        f"end of the file ({len(self.content)} bytes)",
                                        hint="the file is truncated: copy or export it again")
            return np.frombuffer(self.content, np.uint8, size, offset)
        return getattr(buf, "data", None)

    @staticmethod
    def _decode(raw: np.ndarray, type_name: str, shape: tuple[int, ...], sparse: bool) -> np.ndarray:
        dtype = _DTYPES.get(type_name)
        if dtype is None:  # INT4, STRING, ...: keep the bytes
            return raw
        arr = raw.view(dtype)
        if not sparse and shape and int(np.prod(shape)) == arr.size:
            return arr.reshape(shape)
        return arr

    # -- queries ---------------------------------------------------------------------------------------
    @property
    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    @property
    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]

    @property
    def num_subgraphs(self) -> int:
        return len(self.model.subgraphs)

    def op_histogram(self) -> dict[str, int]:
        hist: dict[str, int] = {}
        for op in self.operators:
            hist[op.op_name] = hist.get(op.op_name, 0) + 1
        return dict(sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))


def load(model: str | os.PathLike | bytes | TFLiteModel) -> TFLiteModel:
    """Accept a path, raw bytes or an already parsed model."""
    if isinstance(model, TFLiteModel):
        return model
    if isinstance(model, (bytes, bytearray, memoryview)):
        return TFLiteModel(bytes(model))
    return TFLiteModel.from_file(model)
