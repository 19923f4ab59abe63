import math

import numpy as np
import pytest

from edgelift.converters import distill
from edgelift.errors import InvalidArgumentError


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_loss_matches_hand_computation(alpha):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    zt = rng.normal(size=(4, 3)).astype(np.float32)
    zs = rng.normal(size=(4, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1])
    t = 3.0
    ce = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    fn = distill.distill_loss(3, t, alpha, True, hard_loss=ce)
    packed = np.concatenate([zt, y[:, None].astype(np.float32)], axis=1)
    got = float(fn(tf.constant(packed), tf.constant(zs)))
    pt, ps = _softmax(zt / t), _softmax(zs / t)
    kl = np.mean(np.sum(pt * (np.log(pt) - np.log(ps)), axis=1)) * t * t
    hard = -np.mean(np.log(_softmax(zs)[np.arange(4), y]))
    want = alpha * kl + (1 - alpha) * hard
    assert math.isclose(got, want, rel_tol=1e-4)


def test_probability_outputs_give_the_same_loss_as_logits():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    zt, zs = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    a = float(distill.distill_loss(4, 2.0, 1.0, True)(tf.constant(zt, tf.float32), tf.constant(zs, tf.float32)))
    b = float(distill.distill_loss(4, 2.0, 1.0, False)(tf.constant(_softmax(zt), tf.float32),
                                                      tf.constant(_softmax(zs), tf.float32)))
    assert math.isclose(a, b, rel_tol=1e-3)
    assert a > 0


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "x"])
def test_bad_temperature_refused(bad):
    with pytest.raises(InvalidArgumentError, match="--temperature"):
        distill.check_temperature(bad)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "x"])
def test_bad_alpha_refused(bad):
    with pytest.raises(InvalidArgumentError, match="--distill-alpha"):
        distill.check_alpha(bad)
