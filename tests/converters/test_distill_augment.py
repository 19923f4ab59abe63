"""Consistent teaching: augmentation (shifts, mixup) against plain loops, the mixed loss against a hand
computation, the teacher labelling the very batch the student sees, and convert end to end."""

import numpy as np
import pytest

from edgelift.converters import distill_augment as aug
from edgelift.converters.distill import distill_loss
from edgelift.errors import InvalidArgumentError


def test_shift_matches_a_plain_loop():
    x = np.random.default_rng(1).random((40, 5, 6, 2)).astype(np.float32)
    got = aug.shift(x, np.random.default_rng(7), max_shift=2)
    dy, dx = np.random.default_rng(7).integers(0, 5, size=(2, 40))  # the same draws the function makes
    want = np.zeros_like(x)
    for i in range(40):
        for r in range(5):
            for c in range(6):
                sr, sc = r + dy[i] - 2, c + dx[i] - 2  # output pixel (r, c) reads input (sr, sc), zero outside
                if 0 <= sr < 5 and 0 <= sc < 6:
                    want[i, r, c] = x[i, sr, sc]
    np.testing.assert_array_equal(got, want)
    assert len({(int(a), int(b)) for a, b in zip(dy, dx, strict=True)}) > 10  # every image its own shift


def test_mixup_rows_are_convex_pairs():
    x = np.random.default_rng(2).random((64, 7)).astype(np.float32)
    mixed, partner, lam = aug.mixup(x, np.random.default_rng(3))
    assert sorted(partner.tolist()) == list(range(64)) and ((lam >= 0) & (lam <= 1)).all()
    for i in range(64):
        np.testing.assert_allclose(mixed[i], lam[i] * x[i] + (1 - lam[i]) * x[partner[i]], rtol=1e-6)
    assert 0.05 < float(np.mean(np.minimum(lam, 1 - lam))) < 0.45  # really mixed, not the identity


def test_none_leaves_the_batch_as_it_is():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    got, partner, lam = aug.augment_batch(x, "none", np.random.default_rng(0))
    np.testing.assert_array_equal(got, x)
    assert partner.tolist() == [0, 1, 2] and lam.tolist() == [1, 1, 1]


@pytest.mark.parametrize("value, shape, want", [(None, (8, 8, 1), "none"), ("image", (8, 8, 1), "image"),
                                                ("mixup", (64,), "mixup"), ("mixup", (10, 3), "mixup")])
def test_allowed_values_pass(value, shape, want):
    assert aug.check_augment(value, shape) == want


@pytest.mark.parametrize("value, shape, match", [
    ("blur", (8, 8, 1), r"--distill-augment 'blur' is not one of none, mixup, image"),
    ("image", (64,), r"--distill-augment image shifts NHWC images, and the model takes inputs of shape \(64,\)"),
])
def test_bad_augment_refused(value, shape, match):
    with pytest.raises(InvalidArgumentError, match=match):
        aug.check_augment(value, shape)


@pytest.mark.parametrize("alpha", [0.0, 0.4])
def test_mixed_loss_matches_hand_computation(alpha):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    zt, zs = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    partner, lam = np.array([3, 0, 4, 1, 2]), rng.random(5).astype(np.float32)
    packed = aug.pack(zt, y, partner, lam)
    assert packed.shape == (5, 3 + 1 + 1 + 1)
    hard = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    got = float(distill_loss(3, 2.0, alpha, True, hard, mixed=True)(tf.constant(packed), tf.constant(zs)))

    def log_softmax(z):
        z = z - z.max(-1, keepdims=True)
        return z - np.log(np.exp(z).sum(-1, keepdims=True))

    pt, lt, ls = np.exp(log_softmax(zt / 2)), log_softmax(zt / 2), log_softmax(zs / 2)
    kl = np.mean(np.sum(pt * (lt - ls), -1)) * 4
    ce = -log_softmax(zs)[np.arange(5), :]
    mixed_ce = np.mean(lam * ce[np.arange(5), y] + (1 - lam) * ce[np.arange(5), y[partner]])
    assert got == pytest.approx(alpha * kl + (1 - alpha) * mixed_ce, rel=1e-5)


def test_the_teacher_labels_the_batch_the_student_sees():
    """Consistency: each batch's soft targets are the teacher's outputs on that augmented batch, not on the clean
    images; the labels and lambdas ride beside them; a new epoch reshuffles."""
    from edgelift._tf import keras

    k = keras()
    k.utils.set_random_seed(0)
    teacher = k.Sequential([k.layers.Input((4, 4, 1)), k.layers.Flatten(), k.layers.Dense(3)])
    x = np.random.default_rng(0).random((10, 4, 4, 1)).astype(np.float32)
    y = np.arange(10) % 3
    batches = aug.ConsistentBatches(lambda b: teacher(b, training=False).numpy(), y, "image")
    seq = batches.sequence(x, 4)
    assert len(seq) == 3
    xb, tb = seq[0]
    assert xb.shape == (4, 4, 4, 1) and tb.shape == (4, 3 + 3)
    np.testing.assert_allclose(tb[:, :3], teacher(xb).numpy(), rtol=1e-6)
    assert not np.allclose(tb[:, :3], teacher(x[seq.order[:4]]).numpy(), atol=1e-3)  # not the clean images
    assert tb[:, 3].tolist() == y[seq.order[:4]].tolist()
    first = seq.order.copy()
    seq.on_epoch_end()
    assert sorted(seq.order.tolist()) == list(range(10)) and seq.order.tolist() != first.tolist()


def test_convert_distills_on_augmented_batches_and_records_it(tmp_path):
    """Through the real convert: pruning fine-tunes on per-batch teacher outputs of mixed inputs; the report and
    the recipe say mixup; the recipe replays it; the result still classifies (teacher ~0.93)."""
    from sklearn.datasets import load_digits

    from edgelift._tf import keras
    from edgelift.converters.pipeline import convert

    k = keras()
    d = load_digits()
    x, y = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    k.utils.set_random_seed(0)
    m = k.Sequential([k.layers.Input((64,)), k.layers.Dense(32, activation="relu"), k.layers.Dense(10)])
    m.compile(k.optimizers.Adam(3e-3), k.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x[:1200], y[:1200], epochs=15, batch_size=64, verbose=0)
    m.save(tmp_path / "m.keras")
    np.savez(tmp_path / "train.npz", x=x[:1200], y=y[:1200])
    np.savez(tmp_path / "test.npz", x=x[1200:], y=y[1200:])
    r = convert(str(tmp_path / "m.keras"), str(tmp_path / "o.tflite"), prune=0.5, quantize="dynamic",
                train_data=str(tmp_path / "train.npz"), eval_data=str(tmp_path / "test.npz"), epochs=2,
                distill=True, distill_augment="mixup")
    assert r.report["steps"]["distill"]["augment"] == "mixup"
    assert r.report["accuracy"]["tflite"] > 0.8
    assert "distill_augment: mixup" in r.recipe_path.read_text()
    again = convert(recipe=str(r.recipe_path), output=str(tmp_path / "again.tflite"), epochs=1)
    assert again.report["steps"]["distill"]["augment"] == "mixup"
