"""The one place TensorFlow is imported.

TFMOT works only with tf_keras (Keras 2). TensorFlow picks its Keras when it is first imported, so the
legacy switch must be set before that import — edgelift does it here so users never export anything.
Everything on the device side avoids this module.
"""

from __future__ import annotations

import os
from types import ModuleType


def _quiet() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"


def tensorflow() -> ModuleType:
    """Import TensorFlow configured for tf_keras and quiet logs."""
    _quiet()
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
