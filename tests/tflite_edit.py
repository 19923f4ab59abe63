"""Flatbuffer edits that make the .tflite shapes real exports have and our converters do not emit:
weights stored after the flatbuffer (buffer offset/size), a custom op, a tensor in TFLite's sparse format.

Written through the schema module LiteRT ships, independently of the code under test (converters/tflite_prep).
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

ALIGN = 16


def _pack(m) -> bytes:
    b = flatbuffers.Builder(1 << 16)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def external_buffers(content: bytes, min_bytes: int = 64) -> tuple[bytes, int]:
    """Move every buffer of at least `min_bytes` after the flatbuffer, as large-model writers do.

    Returns (new bytes, buffers moved). Offsets are absolute file positions, 16-byte aligned.
    """
    m = schema.ModelT.InitFromPackedBuf(content, 0)
    moved = [(i, bytes(np.asarray(b.data, np.uint8))) for i, b in enumerate(m.buffers)
             if b.data is not None and len(b.data) >= min_bytes]
    for i, data in moved:  # placeholders of the final width, so the second pack has the same length
        m.buffers[i].data, m.buffers[i].offset, m.buffers[i].size = None, 1 << 40, len(data)
    head = _pack(m)
    pos = (len(head) + ALIGN - 1) // ALIGN * ALIGN
    tail = b""
    for i, data in moved:
        m.buffers[i].offset = pos + len(tail)
        tail += data + b"\0" * ((-len(data)) % ALIGN)
    head = _pack(m)
    assert (len(head) + ALIGN - 1) // ALIGN * ALIGN == pos
    return head + b"\0" * (pos - len(head)) + tail, len(moved)


def with_custom_op(content: bytes, op_index: int, custom_code: str) -> bytes:
    """Turn one operator into a custom op named `custom_code` (LiteRT has no kernel for it)."""
    m = schema.ModelT.InitFromPackedBuf(content, 0)
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM, schema.BuiltinOperator.CUSTOM
    code.customCode, code.version = custom_code, 1
    m.operatorCodes.append(code)
    op = m.subgraphs[0].operators[op_index]
    op.opcodeIndex, op.builtinOptions, op.builtinOptionsType = len(m.operatorCodes) - 1, None, 0
    op.customOptions = [1, 2, 3]
    return _pack(m)


def block_sparse(content: bytes, tensor_name_part: str, block: tuple[int, int] = (1, 4)) -> tuple[bytes, float]:
    """Store one FULLY_CONNECTED/CONV weight (2-D view [O, rest]) in TFLite's block-sparse format (BCSR).

    Blocks of `block` (rows x cols) that are all zero are dropped; the dense dims are (O/r, rest/c) and the
    block dims (r, c), traversal order [0, 1, 2, 3], block_map [0, 1]. Returns (bytes, density of blocks kept).
    """
    m = schema.ModelT.InitFromPackedBuf(content, 0)
    sg = m.subgraphs[0]
    (t,) = [t for t in sg.tensors if tensor_name_part in (t.name.decode() if isinstance(t.name, bytes) else t.name)
            and m.buffers[t.buffer].data is not None and len(t.shape) >= 2]
    dtype = {schema.TensorType.FLOAT32: np.float32, schema.TensorType.INT8: np.int8}[t.type]
    w = np.asarray(m.buffers[t.buffer].data, np.uint8).view(dtype).reshape(t.shape[0], -1)
    r, c = block
    rows, cols = w.shape
    blocks = w.reshape(rows // r, r, cols // c, c).transpose(0, 2, 1, 3)  # [R, C, r, c]
    segments, indices, values = [0], [], []
    for br in range(rows // r):
        for bc in range(cols // c):
            if np.any(blocks[br, bc]):
                indices.append(bc)
                values.append(blocks[br, bc].ravel())
        segments.append(len(indices))
    sp = schema.SparsityParametersT()
    sp.traversalOrder, sp.blockMap = [0, 1, 2, 3], [0, 1]

    def dense(size):
        d = schema.DimensionMetadataT()
        d.format, d.denseSize = schema.DimensionType.DENSE, size
        return d

    csr = schema.DimensionMetadataT()
    csr.format = schema.DimensionType.SPARSE_CSR
    csr.arraySegmentsType, csr.arrayIndicesType = schema.SparseIndexVector.Int32Vector, \
        schema.SparseIndexVector.Int32Vector
    csr.arraySegments, csr.arrayIndices = schema.Int32VectorT(), schema.Int32VectorT()
    csr.arraySegments.values, csr.arrayIndices.values = segments, indices
    sp.dimMetadata = [dense(rows // r), csr, dense(r), dense(c)]
    t.sparsity = sp
    data = np.concatenate(values).astype(dtype) if values else np.zeros(0, dtype)
    m.buffers[t.buffer].data = data.view(np.uint8)
    return _pack(m), len(indices) / ((rows // r) * (cols // c))
