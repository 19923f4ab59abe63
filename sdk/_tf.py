"""The one place TensorFlow is imported.

TFMOT works only with tf_keras (Keras 2). TensorFlow picks its Keras when it is first imported, so the
legacy switch must be set before that import — edgelift does it here so users never export anything.
Everything on the device side avoids this module.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

from .native_stderr import captured


def _quiet() -> None:
    # 3: TensorFlow's C++ errors that matter surface as Python exceptions; the rest is CUDA-probing noise.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Drop what C++ code writes to fd 2 while TensorFlow loads (logged before absl reads any setting).

    EDGELIFT_TF_LOGS=1 keeps it, for debugging an import that fails.
    """
    if os.environ.get("EDGELIFT_TF_LOGS") or "tensorflow" in sys.modules:
        yield
        return
    with captured():
        yield


def tensorflow() -> ModuleType:
    """Import TensorFlow configured for tf_keras and quiet logs."""
    _quiet()
    with _native_stderr_silenced():
        import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # absl ships with TensorFlow; tolerate its absence anyway
        pass
    return tf


def keras() -> ModuleType:
    """tf_keras (Keras 2), the Keras TFMOT understands."""
    tensorflow()
    import tf_keras

    return tf_keras


def tfmot() -> ModuleType:
    tensorflow()
    import tensorflow_model_optimization as mot

    return mot
