"""Fine-tuning shared by pruning, clustering and QAT: loss inference, compile, fit with a progress bar."""

from __future__ import annotations

import sys

import numpy as np

from edgelift._tf import keras
from edgelift.data import check_labels
from edgelift.errors import DataError

from .warn import progress_enabled


def output_activation(model) -> str:
    """The activation the model's output ends with ('softmax' for a Softmax layer; '' or 'linear' for logits)."""
    last = model.layers[-1]
    if type(last).__name__ == "Softmax":
        return "softmax"
    return getattr(getattr(last, "activation", None), "__name__", "")


def infer_loss(model, y: np.ndarray):
    """A loss that fits the labels and the model's output, or an error naming both."""
    k = keras()
    out_shape = tuple(model.outputs[0].shape[1:])
    units = int(out_shape[-1]) if out_shape else 1
    act = output_activation(model)
    if np.issubdtype(y.dtype, np.integer) and y.ndim == 1:
        if units > 1:
            check_labels(y, units, "training data")
            return k.losses.SparseCategoricalCrossentropy(from_logits=act != "softmax")
        return k.losses.BinaryCrossentropy(from_logits=act != "sigmoid")
    if y.shape[1:] == out_shape:
        return k.losses.MeanSquaredError()
    raise DataError(
        f"labels have shape {tuple(y.shape[1:])} and dtype {y.dtype}; the model outputs {out_shape}",
        hint="give class indices (integers) or targets shaped like the model output",
    )


def progress_callback(total: int, desc: str):
    """A Keras callback drawing one tqdm bar over all fine-tuning steps (stderr)."""
    from tqdm.auto import tqdm

    class Progress(keras().callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = tqdm(total=total, desc=desc, unit="step", file=sys.stderr,
                            disable=not progress_enabled(), leave=False)

        def on_train_batch_end(self, batch, logs=None):
            self.bar.update(1)
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

        def on_train_end(self, logs=None):
            self.bar.close()

    return Progress()


def steps_per_epoch(n: int, batch_size: int) -> int:
    return max(1, -(-n // batch_size))


def fit(model, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int, desc: str,
        callbacks: list | None = None, learning_rate: float = 1e-3, loss=None) -> dict:
    """Compile `model` (Adam) and fit it; returns the final training loss/accuracy."""
    k = keras()
    loss = loss if loss is not None else infer_loss(model, y)
    metrics = ["accuracy"] if isinstance(loss, k.losses.SparseCategoricalCrossentropy) else []
    model.compile(optimizer=k.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    total = epochs * steps_per_epoch(len(x), batch_size)
    hist = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True,
                     callbacks=[*(callbacks or []), progress_callback(total, desc)])
    return {key: float(v[-1]) for key, v in hist.history.items()}
