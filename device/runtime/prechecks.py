"""Model checks run before the TFLite interpreter sees a model: what its kernels would abort on, said plainly.

TFLite's builtin int8 ADD and SUB rescale their inputs to a common scale shifted left by 20 bits, then need
the output multiplier `2 * max(input scales) / (2^20 * output scale)` to be below 1; it checks this with
TFLITE_CHECK, which aborts the whole process (exit 134, no message) instead of returning an error. A converter
gives an output such a scale when calibration saw it constant (e.g. x + (-x), or a branch that is zero after
RELU). Refusing it here turns a crash into an error that names the node.
"""

from __future__ import annotations

from ...errors import CustomOpError, InvalidModelError

ADD_LEFT_SHIFT = 20  # TFLite's add.cc / sub.cc for 8-bit types


def check_model(content: bytes, label: str) -> None:
    """Raise InvalidModelError for a node TFLite's builtin kernels would abort on. Needs the flatbuffer schema
    that ships with ai-edge-litert; with only tflite-runtime installed (a Pi) the check is skipped."""
    try:
        from ...tflite_model import load

        model = load(content)
    except ImportError:
        return
    except InvalidModelError:
        return  # unreadable here: the runtime reports it in its own words
    check_custom_ops(content, model, label)
    for op in model.operators:
        if op.op_name not in ("ADD", "SUB") or len(op.inputs) != 2 or not op.outputs:
            continue
        a, b = (model.tensors[i] for i in op.inputs)
        out = model.tensors[op.outputs[0]]
        if out.type_name not in ("INT8", "UINT8") or not (a.is_quantized and b.is_quantized and out.is_quantized):
            continue
        twice_max = 2.0 * max(float(a.scales[0]), float(b.scales[0]))
        out_scale = float(out.scales[0])
        if out_scale <= 0 or twice_max / ((1 << ADD_LEFT_SHIFT) * out_scale) >= 1.0:
            raise InvalidModelError(
                f"{label}: node {op.index} ({op.op_name}) has output scale {out_scale:.3g} for inputs of scale "
                f"{float(a.scales[0]):.3g} and {float(b.scales[0]):.3g} (tensor {out.name!r}); TFLite's kernels "
                f"need the output scale above {twice_max / (1 << ADD_LEFT_SHIFT):.3g} and abort the process "
                "otherwise",
                hint="the converter saw this output constant during calibration (e.g. zero after RELU): "
                     "calibrate with representative data, or remove the layer that cancels out",
            )


def check_custom_ops(content: bytes, model, label: str) -> None:
    """Raise CustomOpError when the model has custom operators that LiteRT's builtin resolver cannot run.

    Some custom codes are registered by the builtin resolver itself (TFLite_Detection_PostProcess of SSD
    models, for one), so the runtime decides: the model is loaded once without delegates, and only an
    unresolved custom op is reported this way (any other failure is left to the caller's own load).
    """
    customs = sorted({op.op_name for op in model.operators if op.is_custom})
    if not customs:
        return
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        interp = Interpreter(model_content=content,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interp.allocate_tensors()
        return
    except (ValueError, RuntimeError) as exc:
        said = " ".join(str(exc).split())
    unresolved = [c for c in customs if c in said] or customs
    if "custom op" not in said.lower() and not any(c in said for c in customs):
        return
    nodes = sum(1 for op in model.operators if op.is_custom and op.op_name in unresolved)
    raise CustomOpError(
        f"{label} has {nodes} custom operator node(s) ({', '.join(repr(c) for c in unresolved)}) that LiteRT's "
        "builtin kernels do not implement, so neither the builtin kernels nor any delegate can run it",
        hint="re-export the model without custom ops (builtin TFLite ops only), or run it where a runtime with "
             "those ops registered is available; `edgelift inspect` lists the ops")
