"""Consistent teaching for `convert --distill`: teacher and student see the same augmented batch, and the teacher's
outputs are computed on it, batch by batch (Beyer et al. 2022, "a good teacher is patient and consistent").

On the clean training images a well-trained teacher is nearly one-hot, so its soft targets say little beyond the
labels; on shifted and mixed images (mixup has no single label) they carry what labels cannot. Only one batch of
augmented inputs and targets exists at a time, so memory stays bounded by the batch size.

Targets are packed per row as [teacher scores (n) | labels a | labels b | lambda]: the hard loss of a mixed image
is lambda * loss(a) + (1 - lambda) * loss(b), which works for integer class labels and regression targets alike.
"""

from __future__ import annotations

import numpy as np

from edgelift.errors import InvalidArgumentError

AUGMENTS = ("none", "mixup", "image")
MIXUP_BETA = 0.4  # lambda ~ Beta(0.4, 0.4): most mixes lean to one image, some are near halves
MAX_SHIFT = 1  # pixels each way: digits are 8x8, a 2-pixel shift already moves strokes off the grid


def check_augment(value, input_shape: tuple) -> str:
    """The augmentation to use: `value` checked against the input's rank; None is 'none'."""
    if value is None:  # off unless asked: on the digits CNN it did not beat plain fine-tuning (examples/digits)
        return "none"
    if value not in AUGMENTS:
        raise InvalidArgumentError(f"--distill-augment {value!r} is not one of {', '.join(AUGMENTS)}",
                                   hint="image: random shifts + mixup (NHWC images); mixup: mix pairs of inputs; "
                                        "none: the teacher's outputs on the training data as it is")
    if value == "image" and len(input_shape) != 3:
        raise InvalidArgumentError(f"--distill-augment image shifts NHWC images, and the model takes inputs of "
                                   f"shape {tuple(input_shape)}", hint="use --distill-augment mixup (or none)")
    return value


def shift(x: np.ndarray, rng: np.random.Generator, max_shift: int = MAX_SHIFT) -> np.ndarray:
    """Each NHWC image moved by its own random (dy, dx) in [-max_shift, max_shift], zero-filled."""
    n, h, w = x.shape[:3]
    padded = np.pad(x, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)[None, :]  # (n, h)
    cols = dx[:, None] + np.arange(w)[None, :]  # (n, w)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def mixup(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mixed inputs, partner index, lambda per row): row i is lambda x[i] + (1 - lambda) x[partner]."""
    n = len(x)
    partner = rng.permutation(n)
    lam = rng.beta(MIXUP_BETA, MIXUP_BETA, size=n).astype(np.float32)
    lam_x = lam.reshape(n, *([1] * (x.ndim - 1)))
    return (lam_x * x + (1 - lam_x) * x[partner]).astype(x.dtype), partner, lam


def augment_batch(x: np.ndarray, kind: str, rng: np.random.Generator):
    """(augmented x, partner index, lambda); 'none' gives x back with each row its own partner and lambda 1."""
    if kind == "image":
        x = shift(x, rng)
    if kind in ("image", "mixup"):
        return mixup(x, rng)
    return x, np.arange(len(x)), np.ones(len(x), np.float32)


def pack(soft: np.ndarray, y: np.ndarray | None, partner: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """[soft | y | y[partner] | lambda] as float32 rows ([soft] alone without labels)."""
    n = len(soft)
    cols = [np.asarray(soft, np.float32).reshape(n, -1)]
    if y is not None:
        flat = np.asarray(y, np.float32).reshape(n, -1)
        cols += [flat, flat[partner], lam.reshape(n, 1)]
    return np.concatenate(cols, axis=1)


class ConsistentBatches:
    """Stands in for the labels in `train.fit`: builds a Keras Sequence whose every batch is augmented once and
    labelled by the frozen teacher on that very batch (so pruning, clustering and QAT wrappers train unchanged)."""

    def __init__(self, teacher_scores, y: np.ndarray | None, kind: str, seed: int = 0):
        self.teacher_scores = teacher_scores  # x batch -> teacher scores in the student's terms (numpy)
        self.y = y
        self.kind = kind
        self.rng = np.random.default_rng(seed)

    def batch(self, x: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xb, partner, lam = augment_batch(x[idx], self.kind, self.rng)
        return xb, pack(self.teacher_scores(xb), None if self.y is None else self.y[idx], partner, lam)

    def sequence(self, x: np.ndarray, batch_size: int):
        from edgelift._tf import keras

        owner = self

        class Batches(keras().utils.Sequence):
            def __init__(self):
                super().__init__()
                self.order = owner.rng.permutation(len(x))

            def __len__(self):
                return max(1, -(-len(x) // batch_size))

            def __getitem__(self, i):
                return owner.batch(x, self.order[i * batch_size:(i + 1) * batch_size])

            def on_epoch_end(self):
                self.order = owner.rng.permutation(len(x))

        return Batches()
