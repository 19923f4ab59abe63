"""TFLite emission with post-training quantization, and quantization-aware training (QAT, PQAT).

A capability table drives the argument checks, so unsupported combinations are rejected before any work.
"""

from __future__ import annotations

import contextlib
import io as _io
import os
import re
import sys
import tempfile

import numpy as np

from edgelift._tf import keras, tensorflow, tfmot
from edgelift.errors import DataError, InvalidArgumentError, UnsupportedModelError

from .train import fit
from .warn import progress_enabled, warn

MODES = ("none", "dynamic", "float16", "int8", "int16x8")
# quantize mode -> (allowed --io values, needs calibration data unless the model went through QAT)
CAPABILITIES: dict[str, tuple[tuple[str, ...], bool]] = {
    "none": (("float32",), False),
    "dynamic": (("float32",), False),
    "float16": (("float32",), False),
    "int8": (("int8", "float32"), True),
    "int16x8": (("float32",), True),
}
MIN_CALIBRATION_SAMPLES = 16


def check_mode(quantize: str, io: str | None, qat: bool, has_calibration: bool) -> str:
    """Validate quantize/io/qat/calibration together; returns the effective --io."""
    if quantize not in CAPABILITIES:
        raise InvalidArgumentError(f"--quantize {quantize!r} is not one of {', '.join(MODES)}",
                                   hint="int8 is the format the NEON delegate runs")
    allowed_io, needs_cal = CAPABILITIES[quantize]
    io = io or allowed_io[0]
    if io not in allowed_io:
        raise InvalidArgumentError(
            f"--io {io} is not available with --quantize {quantize}; allowed: {', '.join(allowed_io)}",
            hint="int8 inputs/outputs need --quantize int8" if io == "int8" else "use --io float32",
        )
    if qat and quantize != "int8":
        raise InvalidArgumentError(f"--qat trains for int8; --quantize {quantize} was asked",
                                   hint="use --quantize int8 with --qat, or drop --qat")
    if needs_cal and not has_calibration and not qat:
        raise InvalidArgumentError(
            f"--quantize {quantize} needs calibration data to set activation ranges, and none was given",
            hint="pass --calibration DATA (a few hundred typical inputs), or use --quantize dynamic "
                 "or --quantize none",
        )
    return io


def check_calibration(x: np.ndarray, input_shape: tuple, path: str, samples: int) -> np.ndarray:
    """Calibration inputs of the right dtype and shape, enough of them; returns float32 samples."""
    if x.dtype.kind not in "fiu":
        raise DataError(
            f"calibration data {path!r} has dtype {x.dtype}; numeric inputs (float32) are required",
            hint="save the model's float32 inputs, preprocessed as for training",
        )
    want = tuple(int(d) for d in input_shape[1:] if d is not None)
    got = tuple(x.shape[1:])
    if len(want) == len(input_shape[1:]) and got != want:
        raise DataError(
            f"calibration data {path!r} has samples of shape {got}; the model input expects {want}",
            hint="reshape or resize the calibration inputs to the model's input shape",
        )
    if len(x) < MIN_CALIBRATION_SAMPLES:
        raise DataError(
            f"calibration data {path!r} has {len(x)} samples; at least {MIN_CALIBRATION_SAMPLES} are needed "
            f"for stable activation ranges ({samples} requested)",
            hint="give a few hundred typical inputs",
        )
    if samples < 1:
        raise InvalidArgumentError(f"--calibration-samples {samples} must be at least 1",
                                   hint=f"the default is 100; use at least {MIN_CALIBRATION_SAMPLES}")
    if x.dtype.kind in "iu":
        warn(f"calibration data {path!r} is {x.dtype}; it is cast to float32 as is (not rescaled) — make sure the "
             "model was trained on that scale")
    if len(x) > samples:  # a spread-out subset: image folders and saved datasets are often sorted by class
        x = x[np.sort(np.random.default_rng(0).choice(len(x), samples, replace=False))]
    return np.asarray(x, dtype=np.float32)


def _representative(x: np.ndarray, stream):
    from tqdm.auto import tqdm

    def gen():
        for i in tqdm(range(len(x)), desc="calibrating", unit="sample", file=stream,
                      disable=not progress_enabled(), leave=False):
            yield [x[i : i + 1]]

    return gen


@contextlib.contextmanager
def _quiet_native():
    """Silence the MLIR converter's C++ chatter on fd 2 (EDGELIFT_CONVERTER_LOGS=1 shows it)."""
    if os.environ.get("EDGELIFT_CONVERTER_LOGS"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def to_tflite(model=None, *, saved_model_dir: str | None = None, quantize: str = "int8", io: str = "int8",
              calibration: np.ndarray | None = None, per_channel: bool = True, qat: bool = False) -> bytes:
    """Convert a tf_keras model (or a SavedModel directory) to .tflite bytes."""
    tf = tensorflow()
    from tqdm.auto import tqdm

    # progress bars keep the real stderr while the converter's native log on fd 2 is silenced
    bar_stream = os.fdopen(os.dup(2), "w", buffering=1) if progress_enabled() else sys.stderr
    if model is not None:
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
    else:
        conv = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    if quantize != "none":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        conv.target_spec.supported_types = [tf.float16]
    elif quantize in ("int8", "int16x8"):
        if calibration is not None:
            conv.representative_dataset = _representative(calibration, bar_stream)
        if quantize == "int8":
            if not qat:  # a QAT model carries its ranges; the int8-only op set would demand calibration data
                conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if io == "int8":
                conv.inference_input_type = tf.int8
                conv.inference_output_type = tf.int8
        else:
            conv.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    if not per_channel:
        conv._experimental_disable_per_channel = True  # TFLite's switch for per-tensor weight scales
    bar = tqdm(total=1, desc="converting", file=bar_stream, disable=not progress_enabled(), leave=False)
    try:
        with _quiet_native(), contextlib.redirect_stdout(_io.StringIO()):
            return conv.convert()
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = re.sub(r"^[^:]*:\d+:\d+: (error: )?", "", first)  # the Python frame MLIR names, not the model's
        raise UnsupportedModelError(
            f"the TFLite converter rejected the model with --quantize {quantize}: {first[:300]}",
            hint="rerun with --verbose (and EDGELIFT_CONVERTER_LOGS=1) for the converter's messages; "
                 "try --quantize dynamic or none",
        ) from exc
    finally:
        bar.update(1)
        bar.close()
        if bar_stream is not sys.stderr:
            bar_stream.close()


def qat(model, train, *, epochs: int, batch_size: int, preserve_sparsity: bool = False,
        preserve_clusters: bool = False, loss=None):
    """Quantization-aware fine-tuning; returns the QAT model (convert it with quantize='int8')."""
    mot = tfmot()
    x, y = train
    annotated = mot.quantization.keras.quantize_annotate_model(model)
    scheme = None
    combine = mot.experimental.combine
    if preserve_clusters:  # cluster-preserving QAT (keeps zeros too when the model was also pruned)
        scheme = combine.Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=preserve_sparsity)
    elif preserve_sparsity:
        scheme = combine.Default8BitPrunePreserveQuantizeScheme()
    try:
        qmodel = (mot.quantization.keras.quantize_apply(annotated, scheme) if scheme is not None
                  else mot.quantization.keras.quantize_apply(annotated))
    except (ValueError, RuntimeError) as exc:
        raise UnsupportedModelError(
            f"quantization-aware training cannot wrap this model: {str(exc).splitlines()[0][:300]}",
            hint="drop --qat and use post-training int8 with --calibration",
        ) from None
    name = ("cluster-preserving QAT" if preserve_clusters else
            "pruning-preserving QAT" if preserve_sparsity else "QAT")
    fit(qmodel, x, y, epochs=epochs, batch_size=batch_size, desc=f"fine-tuning ({name})", learning_rate=3e-4,
        loss=loss)
    return qmodel


def keras_module_ok(model) -> bool:
    return isinstance(model, keras().Model)
