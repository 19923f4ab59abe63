"""Bias correction: cancel the mean output shift that rounding the weights to int8 adds to each channel.

Rounding a kernel W to int8 (symmetric, scale max|W_c| / 127 per output channel, or one scale with
--per-tensor — what TFLite's converter does, Dense included) turns W into W + E. The layer's output then
moves by conv(x, E), whose mean over the data is a bias no calibration removes: after ReLU it shifts which
values survive, and it adds up over layers. Measured on the calibration inputs (the float model's activations
at each layer's input), that mean per output channel is subtracted from the layer's bias (Nagel et al. 2019,
empirical bias correction; weights only — the error of int8 activations is not modelled). Layers without a
bias are left alone and listed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgelift._tf import keras, tensorflow

KINDS = ("Conv2D", "DepthwiseConv2D", "Dense")


def int8_weights(kernel: np.ndarray, axis: int | None) -> np.ndarray:
    """`kernel` rounded to symmetric int8, per channel along `axis` or per tensor (`axis` None)."""
    other = tuple(i for i in range(kernel.ndim) if axis is None or i != axis % kernel.ndim)
    scale = np.max(np.abs(kernel), axis=other, keepdims=True) / 127.0
    scale = np.where(scale > 0, scale, 1.0)
    return (np.clip(np.round(kernel / scale), -127, 127) * scale).astype(kernel.dtype)


def _weight_error_output(layer, x: np.ndarray, per_channel: bool) -> np.ndarray:
    """Mean over samples and positions of the layer's pre-activation output computed with E = Wq - W alone."""
    tf = tensorflow()
    kind = type(layer).__name__
    kernel = layer.get_weights()[0]
    cfg = layer.get_config()
    axis = -1 if per_channel else None
    if kind == "Dense":
        err = int8_weights(kernel, axis) - kernel
        y = np.tensordot(x, err, axes=([x.ndim - 1], [0]))
    elif kind == "Conv2D":
        err = int8_weights(kernel, axis) - kernel
        y = tf.nn.conv2d(x, err, strides=cfg["strides"], padding=cfg["padding"].upper(),
                         dilations=cfg["dilation_rate"]).numpy()
    else:  # DepthwiseConv2D: kernel [kh, kw, in, multiplier], output channel i * multiplier + m
        flat = kernel.reshape(*kernel.shape[:2], -1)
        err = (int8_weights(flat, axis) - flat).reshape(kernel.shape)
        y = tf.nn.depthwise_conv2d(x, err, strides=(1, *cfg["strides"], 1), padding=cfg["padding"].upper(),
                                   dilations=cfg["dilation_rate"]).numpy()
    return y.reshape(-1, y.shape[-1]).mean(axis=0)


def correct_biases(model, x: np.ndarray, per_channel: bool = True, batch: int = 64) -> dict[str, Any]:
    """Correct the biases of `model` in place (pass a working copy) on calibration inputs `x`; `per_channel`:
    weight scales as the converter will choose them (per output channel, or one per tensor)."""
    k = keras()
    layers = [layer for layer in model.layers if type(layer).__name__ in KINDS and layer.get_weights()]
    if not layers:
        return {"layers": [], "skipped": []}
    probe = k.Model(model.inputs, [layer.input for layer in layers])
    done, skipped = [], []
    inputs_of = [[] for _ in layers]
    for i in range(0, len(x), batch):
        got = probe(x[i:i + batch], training=False)
        got = got if isinstance(got, (list, tuple)) else [got]
        for j, t in enumerate(got):
            inputs_of[j].append(np.asarray(t))
    for layer, chunks in zip(layers, inputs_of, strict=True):
        weights = layer.get_weights()
        if len(weights) < 2:
            skipped.append(layer.name)
            continue
        shift = _weight_error_output(layer, np.concatenate(chunks).astype(np.float32), per_channel)
        weights[1] = (weights[1] - shift).astype(weights[1].dtype)
        layer.set_weights(weights)
        done.append({"layer": layer.name, "largest_shift": float(np.max(np.abs(shift)))})
    return {"layers": done, "skipped": skipped, "samples": int(len(x)),
            "weights": "per-channel" if per_channel else "per-tensor"}
