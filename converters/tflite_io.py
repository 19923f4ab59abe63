"""Give an int8 .tflite float32 inputs and outputs: QUANTIZE in front of each int8 input, DEQUANTIZE after
each int8 output, with the same scales, as TFLite's converter emits for `--io float32`.

ai-edge-quantizer's static recipes make the model's inputs and outputs int8; a MediaPipe-style pipeline that
feeds float images and reads float scores wants the drop-in version. The float tensors take the original
names (signatures keep working); the int8 ones inside get `_int8` appended.
"""

from __future__ import annotations


def _code_index(m, schema, op: int, version: int) -> int:
    for i, c in enumerate(m.operatorCodes):
        if max(int(c.builtinCode), int(c.deprecatedBuiltinCode)) == op:
            c.version = max(int(c.version), version)
            return i
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = op, min(op, 127), version
    m.operatorCodes.append(code)
    return len(m.operatorCodes) - 1


def _float_twin(schema, t):
    f = schema.TensorT()
    f.shape, f.shapeSignature, f.name, f.buffer = t.shape, t.shapeSignature, t.name, 0
    f.type = schema.TensorType.FLOAT32
    name = t.name.decode() if isinstance(t.name, bytes) else (t.name or "")
    t.name = name + "_int8"
    return f


def float_io(content: bytes) -> bytes:
    from ai_edge_litert import schema_py_generated as schema

    from .tflite_prep import inline_external_buffers, read, write

    m = read(content, "the quantized model")
    # ai-edge-quantizer stores buffers of 1 KB+ after the flatbuffer once they add up to 256 KB; repacking
    # moves the flatbuffer's end, so they are read in (the output is one self-contained flatbuffer)
    inline_external_buffers(m, content, "the quantized model")
    sg = m.subgraphs[0]
    TT, OP = schema.TensorType, schema.BuiltinOperator
    remap: dict[int, int] = {}
    front, back = [], []
    for role in ("inputs", "outputs"):
        indices = list(getattr(sg, role) if getattr(sg, role) is not None else [])
        for k, t_index in enumerate(indices):
            t = sg.tensors[t_index]
            if t.type != TT.INT8:
                continue
            sg.tensors.append(_float_twin(schema, t))
            f_index = len(sg.tensors) - 1
            op = schema.OperatorT()
            if role == "inputs":
                op.opcodeIndex = _code_index(m, schema, OP.QUANTIZE, 2)
                op.inputs, op.outputs = [f_index], [t_index]
                front.append(op)
            else:
                op.opcodeIndex = _code_index(m, schema, OP.DEQUANTIZE, 2)
                op.inputs, op.outputs = [t_index], [f_index]
                back.append(op)
            indices[k] = f_index
            remap[t_index] = f_index
        setattr(sg, role, indices)
    sg.operators = front + list(sg.operators or []) + back
    for sig in m.signatureDefs or []:
        if sig.subgraphIndex == 0:
            for tm in (sig.inputs or []) + (sig.outputs or []):
                tm.tensorIndex = remap.get(int(tm.tensorIndex), int(tm.tensorIndex))
    return write(m)
