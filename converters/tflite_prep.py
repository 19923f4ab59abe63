"""Make a float .tflite from MediaPipe, LiteRT-Torch or onnx2tf readable by ai-edge-quantizer.

Three things in real exports broke the quantizer (issue 13, found on MediaPipe 0.10.14's models):
- no SignatureDef: the quantizer calibrates through a signature runner, so one is added that maps the main
  subgraph's inputs and outputs by tensor name;
- op codes only in the deprecated 8-bit field (files from converters before TF 2.4): the 32-bit field reads
  0 = ADD there, and the quantizer rewrote every op as ADD; both fields are set to the real code;
- fp16 weights behind DEQUANTIZE ops: the quantizer retyped those DEQUANTIZE outputs to INT8; the fp16
  constants are widened to float32 (exact) and the DEQUANTIZE ops removed, which is the float model they encode.
Weights stored after the flatbuffer (buffer offset/size) are read into it first, since repacking moves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgelift.errors import InvalidModelError

SIGNATURE_KEY = "serving_default"
_TFLITE_IDENTIFIER = b"TFL3"


@dataclass
class PrepReport:
    """What preprocessing changed, for the convert report and the summary line."""

    signature_added: bool = False
    op_codes_fixed: list[str] = field(default_factory=list)  # ops whose code was only in the deprecated field
    fp16_folded: int = 0  # fp16 DEQUANTIZE ops replaced by float32 constants
    external_buffers_inlined: int = 0
    removed_tensors: int = 0

    def as_dict(self) -> dict:
        return {"signature_added": self.signature_added, "op_codes_fixed": self.op_codes_fixed,
                "fp16_dequantize_folded": self.fp16_folded,
                "external_buffers_inlined": self.external_buffers_inlined}


def _schema():
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def read(content: bytes, where: str):
    """Parse into the schema's object API (ModelT); a file that is not a .tflite gets one clear line."""
    if len(content) < 8 or content[4:8] != _TFLITE_IDENTIFIER:
        raise InvalidModelError(f"{where} is not a TFLite flatbuffer (found {content[4:8]!r} at byte 4, "
                                f"{len(content)} bytes)", hint="pass a .tflite exported by a TFLite converter")
    try:
        m = _schema().ModelT.InitFromPackedBuf(content, 0)
        if not m.subgraphs:
            raise ValueError("no subgraphs")
    except Exception as exc:  # flatbuffers raises bare errors on truncated data
        raise InvalidModelError(f"{where} is a corrupt or truncated .tflite ({len(content)} bytes): "
                                f"{type(exc).__name__}: {exc}",
                                hint="re-export the model; a partial download or copy is the usual cause") from None
    return m


def write(m) -> bytes:
    import flatbuffers

    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(m.Pack(builder), file_identifier=_TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def inline_external_buffers(m, content: bytes, where: str) -> int:
    n = 0
    for i, buf in enumerate(m.buffers or []):
        if buf is not None and int(buf.offset or 0) > 1:
            start, size = int(buf.offset), int(buf.size)
            if start + size > len(content):
                raise InvalidModelError(f"{where}: buffer {i} lies at bytes {start}..{start + size}, past the end "
                                        f"of the file ({len(content)} bytes)",
                                        hint="the file is truncated: copy or export it again")
            buf.data = np.frombuffer(content, np.uint8, size, start).copy()
            buf.offset, buf.size = 0, 0
            n += 1
    return n


def fix_op_codes(m) -> list[str]:
    """Set the 32-bit and deprecated 8-bit op code fields alike (the runtime reads the larger of the two)."""
    names = {v: k for k, v in vars(_schema().BuiltinOperator).items() if not k.startswith("_")}
    fixed = []
    for code in m.operatorCodes or []:
        real = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        if int(code.builtinCode) != real:
            fixed.append(names.get(real, f"OP_{real}"))
        code.builtinCode = real
        code.deprecatedBuiltinCode = min(real, 127)  # 127 = PLACEHOLDER_FOR_GREATER_OP_CODES
    return fixed


def add_signature(m) -> bool:
    if m.signatureDefs:
        return False
    schema = _schema()
    sg = m.subgraphs[0]

    def tensor_maps(indices) -> list:
        maps, seen = [], set()
        for k, t in enumerate(indices if indices is not None else []):
            name = sg.tensors[t].name
            name = name.decode() if isinstance(name, bytes) else (name or "")
            name = name or f"tensor_{t}"
            if name in seen:
                name = f"{name}_{k}"
            seen.add(name)
            tm = schema.TensorMapT()
            tm.name, tm.tensorIndex = name, int(t)
            maps.append(tm)
        return maps

    sig = schema.SignatureDefT()
    sig.signatureKey, sig.subgraphIndex = SIGNATURE_KEY, 0
    sig.inputs, sig.outputs = tensor_maps(sg.inputs), tensor_maps(sg.outputs)
    m.signatureDefs = [sig]
    return True


def _buffer_bytes(m, tensor) -> np.ndarray | None:
    bufs = m.buffers or []
    if not 0 < tensor.buffer < len(bufs):
        return None
    data = bufs[tensor.buffer].data
    return None if data is None or len(data) == 0 else np.asarray(data, np.uint8)


def fold_fp16_dequantize(m) -> int:
    """Replace DEQUANTIZE(fp16 constant) by a float32 constant holding the same values."""
    schema = _schema()
    TT = schema.TensorType
    dequant = {i for i, c in enumerate(m.operatorCodes or [])
               if max(int(c.builtinCode), int(c.deprecatedBuiltinCode)) == schema.BuiltinOperator.DEQUANTIZE}
    folded = 0
    for sg in m.subgraphs:
        keep = []
        for op in sg.operators or []:
            src = sg.tensors[op.inputs[0]] if op.opcodeIndex in dequant and len(op.inputs) == 1 else None
            raw = _buffer_bytes(m, src) if src is not None and src.type == TT.FLOAT16 else None
            if raw is None or src.sparsity is not None:
                keep.append(op)
                continue
            out = sg.tensors[op.outputs[0]]
            buf = schema.BufferT()
            buf.data = raw.view(np.float16).astype(np.float32).view(np.uint8)  # fp16 -> fp32 is exact
            m.buffers.append(buf)
            out.buffer = len(m.buffers) - 1
            out.type = TT.FLOAT32
            folded += 1
        sg.operators = keep
    return folded


def drop_unused_tensors(m) -> int:
    """Tensors no op, subgraph or signature refers to (the fp16 originals after folding); their buffers emptied."""
    removed = 0
    for si, sg in enumerate(m.subgraphs):
        used = set(sg.inputs if sg.inputs is not None else []) | set(sg.outputs if sg.outputs is not None else [])
        for op in sg.operators or []:
            for seq in (op.inputs, op.outputs, op.intermediates):
                used.update(int(t) for t in (seq if seq is not None else []) if t >= 0)
        if len(used) == len(sg.tensors or []):
            continue
        new_index = {old: new for new, old in enumerate(sorted(used))}
        for old, t in enumerate(sg.tensors):
            if old not in used and 0 < t.buffer < len(m.buffers):
                m.buffers[t.buffer].data = None  # its bytes leave the file; the empty buffer keeps indices valid
        removed += len(sg.tensors) - len(used)
        sg.tensors = [sg.tensors[old] for old in sorted(used)]

        def remap(seq, new_index=new_index):
            return None if seq is None else [new_index[int(t)] if t >= 0 else -1 for t in seq]

        sg.inputs, sg.outputs = remap(sg.inputs), remap(sg.outputs)
        for op in sg.operators or []:
            op.inputs, op.outputs, op.intermediates = remap(op.inputs), remap(op.outputs), remap(op.intermediates)
        for sig in m.signatureDefs or []:
            if sig.subgraphIndex == si:
                for tm in (sig.inputs or []) + (sig.outputs or []):
                    tm.tensorIndex = new_index[int(tm.tensorIndex)]
    return removed


def prepare(content: bytes, where: str) -> tuple[bytes, PrepReport]:
    """The three fixes (and inlined external buffers); returns the bytes to hand to the quantizer."""
    m = read(content, where)
    rep = PrepReport()
    rep.external_buffers_inlined = inline_external_buffers(m, content, where)
    rep.op_codes_fixed = fix_op_codes(m)
    rep.fp16_folded = fold_fp16_dequantize(m)
    rep.removed_tensors = drop_unused_tensors(m) if rep.fp16_folded else 0
    rep.signature_added = add_signature(m)
    return write(m), rep
