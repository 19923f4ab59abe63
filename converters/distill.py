"""Knowledge distillation for the fine-tuning steps: soft targets from a frozen teacher, KL * T^2 weighted by
alpha, plus (1 - alpha) of the hard-label loss. The teacher is frozen and the inputs are not augmented, so its
outputs are computed once and packed beside the labels; the loss is then an ordinary Keras loss that works under
TFMOT's prune, cluster and QAT wrappers unchanged."""

from __future__ import annotations

import math

import numpy as np

from edgelift.errors import InvalidArgumentError

from .train import output_activation

_EPS = 1e-7


def _as_float(value) -> float:
    """The value as a float, NaN when it is not a number (so one finiteness check refuses both)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def check_temperature(value) -> float:
    t = _as_float(value)
    if not math.isfinite(t) or t <= 0:
        raise InvalidArgumentError(f"--temperature {value} must be a finite number > 0",
                                   hint="e.g. --temperature 4 (1 leaves the teacher's probabilities as they are)")
    return t


def check_alpha(value) -> float:
    a = _as_float(value)
    if not math.isfinite(a) or not 0.0 <= a <= 1.0:
        raise InvalidArgumentError(f"--distill-alpha {value} must be in [0, 1] (the weight of the teacher's loss)",
                                   hint="e.g. --distill-alpha 0.5; 1 uses the teacher alone (no labels needed)")
    return a


def as_logits(out, from_logits: bool):
    """Logits (up to a per-row constant, which softmax ignores) from a model output."""
    import tensorflow as tf

    return out if from_logits else tf.math.log(tf.clip_by_value(out, _EPS, 1.0))


def distill_loss(n_classes: int, temperature: float, alpha: float, from_logits: bool, hard_loss=None,
                 label_shape: tuple = ()):
    """A Keras loss over packed targets [teacher outputs (n_classes) | labels (flattened)]."""
    import tensorflow as tf

    t = float(temperature)

    def loss(y_packed, y_pred):
        y_packed = tf.cast(y_packed, tf.float32)
        teacher = as_logits(y_packed[:, :n_classes], from_logits)
        student = as_logits(tf.cast(y_pred, tf.float32), from_logits)
        p_t = tf.nn.softmax(teacher / t, axis=-1)
        log_p_t = tf.nn.log_softmax(teacher / t, axis=-1)
        log_p_s = tf.nn.log_softmax(student / t, axis=-1)
        kl = tf.reduce_mean(tf.reduce_sum(p_t * (log_p_t - log_p_s), axis=-1)) * (t * t)
        total = alpha * kl
        if alpha < 1.0 and hard_loss is not None:
            y = tf.reshape(y_packed[:, n_classes:], (-1, *label_shape))
            total += (1.0 - alpha) * hard_loss(y, y_pred)
        return total

    return loss


def pack_targets(teacher, x: np.ndarray, y: np.ndarray | None, batch_size: int = 256) -> np.ndarray:
    """[teacher(x) | y flattened] as float32 rows, the y that fit() trains against."""
    soft = np.asarray(teacher.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
    soft = soft.reshape(len(x), -1)
    if y is None:
        return soft
    return np.concatenate([soft, np.asarray(y, dtype=np.float32).reshape(len(x), -1)], axis=1)


def output_is_logits(model) -> bool:
    return output_activation(model) != "softmax"
