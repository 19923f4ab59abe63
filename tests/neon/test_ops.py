"""Every op the NEON delegate claims, bit-exact against LiteRT 2.3's builtin kernels on x86-64.

Shapes sit on tile edges (channels 1, 3, 4, 7, 8, 9, 16, 17, 64), spatial sizes are odd and even, strides 1-2,
SAME/VALID, dilation, fused RELU/RELU6, and calibration ranges that put zero points at the extremes
([0, 1] gives an input zero point of -128, [-1, 0] gives +127). Each case also asserts that the delegate
claimed every node (the partition line), so a silently unclaimed op cannot pass.
"""

from __future__ import annotations

import re

import pytest

from tests.neon import harness

# (id, builder, calibration range, builder kwargs, expected "N of M" or None for all)
CASES = [
    ("conv_3x3_same_c3_f8", "conv2d", (-1, 1), dict(shape=(9, 9, 3), filters=8)),
    ("conv_3x3_valid_s2_c17_f9_relu6", "conv2d", (-1, 1),
     dict(shape=(11, 11, 17), filters=9, padding="valid", strides=2, activation="relu6")),
    ("conv_1x1_c4_f16_relu_zp-128", "conv2d", (0, 1), dict(shape=(8, 8, 4), filters=16, kernel=1, activation="relu")),
    ("conv_3x3_same_s2_c7_f1", "conv2d", (-1, 1), dict(shape=(7, 7, 7), filters=1, strides=2)),
    ("conv_3x3_dilation2_c8_f17", "conv2d", (-1, 1), dict(shape=(10, 10, 8), filters=17, dilation=2)),
    ("conv_5x5_s2_c1_f64_nobias_zp-128", "conv2d", (0, 1),
     dict(shape=(9, 9, 1), filters=64, kernel=5, strides=2, use_bias=False)),
    ("conv_2x2_valid_c9_f3_zp127", "conv2d", (-1, 0), dict(shape=(6, 6, 9), filters=3, kernel=2, padding="valid")),
    ("dw_3x3_same_c8", "depthwise_conv2d", (-1, 1), dict(shape=(9, 9, 8))),
    ("dw_3x3_valid_s2_c3_m2_relu6", "depthwise_conv2d", (-1, 1),
     dict(shape=(10, 10, 3), strides=2, padding="valid", multiplier=2, activation="relu6")),
    ("dw_5x5_dilation2_c17", "depthwise_conv2d", (-1, 1), dict(shape=(7, 7, 17), kernel=5, dilation=2)),
    ("dw_3x3_c1_m4_zp-128", "depthwise_conv2d", (0, 1), dict(shape=(8, 8, 1), multiplier=4)),
    ("dw_3x3_s2_c64_relu", "depthwise_conv2d", (-1, 1), dict(shape=(9, 9, 64), strides=2, activation="relu")),
    ("fc_16_10", "dense", (-1, 1), dict(features=16, units=10)),
    ("fc_64_17_relu_zp-128", "dense", (0, 1), dict(features=64, units=17, activation="relu")),
    ("fc_7_1", "dense", (-1, 1), dict(features=7, units=1)),
    ("fc_per_tensor_24_17", "dense", (-1, 1), dict(features=24, units=17, per_tensor_dense=True)),
    ("fc_per_tensor_64_9_relu_zp-128", "dense", (0, 1), dict(features=64, units=9, activation="relu",
                                                            per_tensor_dense=True)),
    ("add_c7", "binary", (-1, 1), dict(op="add", shape=(5, 5, 7))),
    # seed 1: with seed 0 both 1x1 branches sum below zero on [0, 1], RELU makes the output constant 0 and
    # LiteRT's builtin ADD aborts the process on the resulting 7.8e-9 output scale
    ("add_c1_relu", "binary", (0, 1), dict(op="add", shape=(5, 5, 1), activation="relu", seed=1)),
    ("mul_c9", "binary", (-1, 1), dict(op="mul", shape=(3, 5, 9))),
    ("mul_c4_relu6", "binary", (-1, 1), dict(op="mul", shape=(4, 4, 4), activation="relu6")),
    ("maxpool_2x2_s2_valid_c5", "pool", (-1, 1), dict(kind="max", shape=(9, 9, 5))),
    ("maxpool_3x3_s1_same_c16", "pool", (-1, 1), dict(kind="max", shape=(6, 6, 16), size=3, strides=1, padding="same")),
    ("avgpool_3x3_s2_same_c5", "pool", (-1, 1), dict(kind="avg", shape=(9, 9, 5), size=3, strides=2, padding="same")),
    ("avgpool_2x2_s1_valid_c3_zp-128", "pool", (0, 1), dict(kind="avg", shape=(7, 7, 3), size=2, strides=1)),
    ("mean_c9", "mean", (-1, 1), dict(shape=(7, 7, 9))),
    ("mean_c17_zp127", "mean", (-1, 0), dict(shape=(5, 6, 17))),
    ("mean_keepdims_c8", "mean", (-1, 1), dict(shape=(5, 5, 8), keepdims=True)),
    ("mean_keepdims_c17", "mean", (-1, 1), dict(shape=(7, 7, 17), keepdims=True)),
    ("mean_keepdims_c64_zp-128", "mean", (0, 1), dict(shape=(4, 3, 64), keepdims=True)),
    ("mean_keepdims_c35", "mean", (-3, 1), dict(shape=(9, 9, 35), keepdims=True)),
    ("pad_c3", "pad", (-1, 1), dict(shape=(5, 5, 3))),
    ("pad_c9_asym", "pad", (-1, 1), dict(shape=(4, 6, 9), padding=((0, 1), (3, 0)))),
    ("concat_3_4_1", "concat", (-1, 1), dict(shape=(5, 5, 3), channels=(3, 4, 1))),
    ("concat_8_1_9", "concat", (-1, 1), dict(shape=(3, 7, 2), channels=(8, 1, 9))),
    ("hard_swish_c4", "activation", (-1, 1), dict(kind="hard_swish", shape=(6, 6, 4))),
    ("hard_swish_c17", "activation", (-4, 4), dict(kind="hard_swish", shape=(5, 5, 17))),
    ("logistic_c4", "activation", (-1, 1), dict(kind="sigmoid", shape=(6, 6, 4))),
    ("logistic_c9_zp-128", "activation", (0, 1), dict(kind="sigmoid", shape=(3, 3, 9))),
]
# RESHAPE + FULLY_CONNECTED + SOFTMAX: the converter computes the RESHAPE's shape with SHAPE/STRIDED_SLICE/PACK
# (int32, from the dynamic batch); all six nodes are claimed.
PARTIAL = [
    ("reshape_fc_softmax_12_10", "reshape_softmax", (-1, 1), dict(features=12, units=10), 6),
    ("reshape_fc_softmax_36_17", "reshape_softmax", (-1, 1), dict(features=36, units=17), 6),
]

LINE = re.compile(r"edgelift-neon: (\d+) of (\d+) nodes delegated in (\d+) partitions")


def _check(model, neon_lib, capfd, expect_claimed=None):
    harness._delegate.cache_clear()
    it = harness.interpreter(model, neon_lib, log_level="info")
    del it
    m = LINE.search(capfd.readouterr().err)
    assert m, "the delegate did not log its partition line"
    claimed, total = int(m.group(1)), int(m.group(2))
    assert claimed == (total if expect_claimed is None else expect_claimed), m.group(0)
    harness.assert_identical(model, neon_lib)


@pytest.mark.parametrize("builder,calib,kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_op_bit_exact(builder, calib, kwargs, neon_lib, capfd):
    _check(harness.convert(builder, *calib, **kwargs), neon_lib, capfd)


@pytest.mark.parametrize("builder,calib,kwargs,claimed", [c[1:] for c in PARTIAL], ids=[c[0] for c in PARTIAL])
def test_reshape_fc_softmax(builder, calib, kwargs, claimed, neon_lib, capfd):
    _check(harness.convert(builder, *calib, **kwargs), neon_lib, capfd, expect_claimed=claimed)
