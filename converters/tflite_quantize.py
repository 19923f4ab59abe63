"""Quantize a float .tflite with Google's ai-edge-quantizer (no TensorFlow needed), after `tflite_prep`.

Modes map to the quantizer's recipes: int8 = static int8 weights and activations, int16x8 = int8 weights
with int16 activations, dynamic = int8 weights with float activations quantized at run time, float16 =
fp16 weights cast back to float at load. Per-layer overrides (`layers:` in a recipe) are regexes over an
op's output tensor name, each with its own mode, or `none` to leave those ops float.
"""

from __future__ import annotations

import contextlib
import io as _io
import re
from typing import Any

import numpy as np

from edgelift.errors import InvalidArgumentError, UnsupportedModelError

LAYER_MODES = ("int8", "int16x8", "dynamic", "float16", "none")


def check_layers(layers: Any) -> dict[str, str]:
    """`layers:` must map a regex (over op output tensor names) to one of LAYER_MODES."""
    if layers is None:
        return {}
    if not isinstance(layers, dict) or not layers:
        raise InvalidArgumentError(f"layers must be a mapping of name regex -> mode, got {layers!r}",
                                   hint="e.g. layers: {'regressors': int16x8, 'conv2d_1': none}")
    out = {}
    for regex, mode in layers.items():
        if not isinstance(regex, str) or not isinstance(mode, str):
            raise InvalidArgumentError(f"layers entry {regex!r}: {mode!r} must be a string regex and a string mode",
                                       hint=f"modes: {', '.join(LAYER_MODES)}")
        try:
            re.compile(regex)
        except re.error as exc:
            raise InvalidArgumentError(f"layers regex {regex!r} does not compile: {exc}",
                                       hint="escape regex characters such as ( ) [ ] with a backslash") from None
        if mode not in LAYER_MODES:
            raise InvalidArgumentError(f"layers entry {regex!r} has mode {mode!r}; allowed: {', '.join(LAYER_MODES)}",
                                       hint="none leaves the matching ops float")
        out[regex] = mode
    return out


def _add(q, regex: str, mode: str, per_channel: bool) -> None:
    from ai_edge_quantizer import algorithm_manager, qtyping

    gran = qtyping.QuantGranularity.CHANNELWISE if per_channel else qtyping.QuantGranularity.TENSORWISE
    if mode == "int8":
        q.add_static_config(regex, "*", activation_num_bits=8, weight_num_bits=8, weight_granularity=gran)
    elif mode == "int16x8":
        q.add_static_config(regex, "*", activation_num_bits=16, weight_num_bits=8, weight_granularity=gran)
    elif mode == "dynamic":
        q.add_dynamic_config(regex, "*", num_bits=8, granularity=gran)
    elif mode == "float16":
        q.add_weight_only_config(regex, "*", num_bits=16, algorithm_key=algorithm_manager.AlgorithmName.FLOAT_CASTING)
    elif mode == "none":
        q.update_quantization_recipe(regex, "*", algorithm_key=algorithm_manager.AlgorithmName.NO_QUANTIZE)
    else:  # check_layers and check_mode keep this unreachable from user input
        raise InvalidArgumentError(f"quantize mode {mode!r} is not one of {', '.join(LAYER_MODES)}")


def quantize(prepared: bytes, mode: str, *, per_channel: bool, layers: dict[str, str],
             calibration: list[dict[str, np.ndarray]] | None, signature_key: str) -> bytes:
    """Run the quantizer; its own messages are kept off the terminal and its failures become one line."""
    from ai_edge_quantizer import quantizer

    from edgelift.native_stderr import captured

    q = quantizer.Quantizer(bytearray(prepared))
    _add(q, ".*", mode, per_channel)
    for regex, layer_mode in layers.items():  # added after the default, so they win for the ops they match
        _add(q, regex, layer_mode, per_channel)
    noise = _io.StringIO()
    try:
        with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise), captured():
            result = None
            if q.need_calibration:
                if not calibration:
                    raise InvalidArgumentError(f"--quantize {mode} (or a layer override) needs calibration data",
                                               hint="pass --calibration DATA (a few hundred typical inputs)")
                result = q.calibrate({signature_key: calibration})
            out = q.quantize(result, enable_progress_report=False).quantized_model
    except InvalidArgumentError:
        raise
    except Exception as exc:
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise UnsupportedModelError(f"ai-edge-quantizer could not quantize the model to {mode}: "
                                    f"{type(exc).__name__}: {line}",
                                    hint="try another --quantize mode, or leave the named op float with a "
                                         "recipe `layers:` entry set to none") from None
    return bytes(out)
