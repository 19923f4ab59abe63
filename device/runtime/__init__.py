"""Running a .tflite here (the desktop, or the Pi with numpy and a TFLite runtime only; never TensorFlow).

    runner = load_interpreter("model.tflite", delegate="xnnpack", threads=2)
    runner.partition      # "11 of 11 nodes delegated in 1 partition; not delegated: none"
    y = runner.predict(x)  # float in, float out: quantizes int8 inputs, dequantizes outputs

runner: the interpreter interface over LiteRT (`ai_edge_litert`) and `tflite_runtime` (selection: which one;
delegates: loading them; partition: what they took; tensors: float in and out of int8); engines: whole
datasets through a model (the interpreter or the exact-integer GPU path), as `validate` sees them; litert_gpu:
a float model on LiteRT's GPU accelerator; prechecks: models no runtime can load safely, refused before one
tries. Nothing here reaches a device or judges a result (edgelift.device.remote and edgelift.device.checking
build on this package; it imports neither).
"""

from .delegates import KNOWN_DELEGATES, check_delegate_name, is_delegate_path, neon_library_path
from .partition import PartitionInfo
from .runner import Runner, load_interpreter, model_bytes
from .selection import RUNTIMES, RuntimeInfo, available_runtimes, get_runtime
from .tensors import dequantize, quantize, random_like

__all__ = ["KNOWN_DELEGATES", "RUNTIMES", "PartitionInfo", "Runner", "RuntimeInfo", "available_runtimes",
           "check_delegate_name", "dequantize", "get_runtime", "is_delegate_path", "load_interpreter",
           "model_bytes", "neon_library_path", "quantize", "random_like"]
