"""Model checks run before the TFLite interpreter sees a model: what its kernels would abort on, said plainly.

TFLite's builtin int8 ADD and SUB rescale their inputs to a common scale shifted left by 20 bits, then need
the output multiplier `2 * max(input scales) / (2^20 * output scale)` to be below 1; it checks this with
TFLITE_CHECK, which aborts the whole process (exit 134, no message) instead of returning an error. A converter
gives an output such a scale when calibration saw it constant (e.g. x + (-x), or a branch that is zero after
RELU). Refusing it here turns a crash into an error that names the node.
"""

from __future__ import annotations

from ..errors import InvalidModelError

ADD_LEFT_SHIFT = 20  # TFLite's add.cc / sub.cc for 8-bit types


def check_model(content: bytes, label: str) -> None:
    """Raise InvalidModelError for a node TFLite's builtin kernels would abort on. Needs the flatbuffer schema
    that ships with ai-edge-litert; with only tflite-runtime installed (a Pi) the check is skipped."""
    try:
        from ..tflite_model import load

        model = load(content)
    except ImportError:
        return
    except InvalidModelError:
        return  # unreadable here: the runtime reports it in its own words
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
