"""A .tflite with a custom operator that no runtime here implements: a real model with one node's op code
rewritten to CUSTOM (what TFLite's converter writes with allow_custom_ops for an op it does not know)."""

from __future__ import annotations

CUSTOM_CODE = "EdgeliftUnknownOp"


def with_custom_op(content: bytes, node: int = 0, custom_code: str = CUSTOM_CODE) -> bytes:
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    code = schema.OperatorCodeT()
    code.builtinCode = schema.BuiltinOperator.CUSTOM
    code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode = custom_code
    code.version = 1
    model.operatorCodes.append(code)
    op = model.subgraphs[0].operators[node]
    op.opcodeIndex = len(model.operatorCodes) - 1
    op.builtinOptionsType, op.builtinOptions = 0, None
    builder = flatbuffers.Builder(len(content) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
