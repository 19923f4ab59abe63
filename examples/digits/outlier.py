"""The digits CNN with one outlier channel: a model that is fine in float and broken by int8.

One output channel of `conv3` is scaled up by `factor` and the weights of `fc1` that read it are scaled down by
the same factor. Between them sit ReLU and global average pooling, both positively homogeneous per channel, so
the float model computes the same logits (up to float rounding). int8, though, gives the whole `conv3` output
tensor one scale: the outlier channel dictates it, and the other channels are crushed to a few int8 steps or to
zero. This is what trained models with outlier activations look like to a per-tensor quantizer.
"""

from __future__ import annotations

import numpy as np

LAYER, NEXT = "conv3", "fc1"


def busiest_channel(model, x: np.ndarray, layer: str = LAYER) -> int:
    """The output channel of `layer` with the largest mean activation on `x`: one that fires on most inputs,
    so scaling it up stretches the tensor's range on every sample (a rarely firing one would not)."""
    from edgelift._tf import keras

    probe = keras().Model(model.inputs, model.get_layer(layer).output)
    act = np.asarray(probe(x[:256], training=False))
    return int(np.argmax(act.reshape(-1, act.shape[-1]).mean(axis=0)))


def add_outlier_channel(model, x: np.ndarray, factor: float = 1000.0, channel: int | None = None,
                        layer: str = LAYER, next_layer: str = NEXT):
    """Return a copy of the trained digits CNN with one outlier channel in `layer`; (model, channel).
    `x`: typical inputs, to pick the channel (unless `channel` is given)."""
    from edgelift._tf import keras

    k = keras()
    out = k.models.clone_model(model)
    out.set_weights(model.get_weights())
    kernel, bias = out.get_layer(layer).get_weights()
    nxt_kernel, nxt_bias = out.get_layer(next_layer).get_weights()
    if channel is None:
        channel = busiest_channel(model, x, layer)
    kernel, bias = kernel.copy(), bias.copy()
    kernel[..., channel] *= factor
    bias[channel] *= factor
    nxt_kernel = nxt_kernel.copy()
    nxt_kernel[channel, :] /= factor
    out.get_layer(layer).set_weights([kernel, bias])
    out.get_layer(next_layer).set_weights([nxt_kernel, nxt_bias])
    return out, channel
