"""Model loading, pruning, clustering, quantization and TFLite emission (imports TensorFlow lazily).

    from edgelift.converters import convert          # same as edgelift.convert
    result = convert("model.keras", "model.tflite", prune=0.75, calibration="calib.npz")

Modules, one idea each: load (formats, Keras 3 -> tf_keras), policy (which layers), masks (magnitude
masks in TFLite's layout), prune, cluster, quantize (PTQ, QAT), train (fine-tuning), recipe, report,
pipeline (orchestration).
"""

from .convert_result import ConvertResult
from .pipeline import convert
from .warn import ConvertWarning

__all__ = ["ConvertResult", "ConvertWarning", "convert"]
