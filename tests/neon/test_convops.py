"""TRANSPOSE_CONV (Keras Conv2DTranspose) and grouped CONV_2D (Keras Conv2D(groups=...), ConvNeXt's depthwise
7x7) through the NEON delegate, bit-exact against LiteRT 2.3's builtin kernels on x86-64.

TRANSPOSE_CONV's builtin epilogue requantizes whole groups of 8 channels one way (its vector body) and the rest
another (its tail): channel counts 7, 9, 16, 17 and 32 put outputs on both sides, and the spatial sizes are
large enough (thousands of outputs per path) that a wrong rounding rule shows (it differs on about 1 output in
300). Strides 1-3, SAME/VALID, filters larger and smaller than the stride, no bias, zero points at the extremes
([0, 1] gives -128, [-1, 0] gives +127). Each case asserts that the delegate claimed every node.
"""

from __future__ import annotations

import re

import pytest

from tests.neon import harness

LINE = re.compile(r"edgelift-neon: (\d+) of (\d+) nodes delegated in (\d+) partitions")

# (id, builder, calibration range, builder kwargs)
TRANSPOSE_CONV = [
    ("tconv_2x2_s2_same_c64_f32_zp-128", "conv2d_transpose", (0, 1),  # the U-Net's upsampling
     dict(shape=(8, 8, 64), filters=32, kernel=2, strides=2)),
    ("tconv_3x3_s2_same_c8_f9", "conv2d_transpose", (-1, 1), dict(shape=(12, 12, 8), filters=9, kernel=3)),
    ("tconv_3x3_s2_same_c8_f7_tail_only", "conv2d_transpose", (-1, 1),
     dict(shape=(16, 16, 8), filters=7, kernel=3)),
    ("tconv_4x4_s3_same_c17_f17_nobias_zp127", "conv2d_transpose", (-1, 0),
     dict(shape=(9, 11, 17), filters=17, kernel=4, strides=3, use_bias=False)),
    ("tconv_3x3_s1_valid_c4_f16", "conv2d_transpose", (-1, 1),
     dict(shape=(14, 13, 4), filters=16, kernel=3, strides=1, padding="valid")),
    ("tconv_3x3_s2_valid_c3_f16", "conv2d_transpose", (-1, 1),
     dict(shape=(10, 12, 3), filters=16, kernel=3, strides=2, padding="valid")),
    ("tconv_1x1_s2_same_c5_f24", "conv2d_transpose", (-1, 1),  # filter smaller than the stride: gaps
     dict(shape=(9, 9, 5), filters=24, kernel=1, strides=2)),
    ("tconv_5x3_s2x1_same_c6_f10", "conv2d_transpose", (-2, 1),
     dict(shape=(8, 10, 6), filters=10, kernel=(5, 3), strides=(2, 1))),
]


def _claimed(model, neon_lib, capfd) -> tuple[int, int, str]:
    harness._delegate.cache_clear()
    it = harness.interpreter(model, neon_lib, log_level="info")
    del it
    m = LINE.search(capfd.readouterr().err)
    assert m, "the delegate did not log its partition line"
    return int(m.group(1)), int(m.group(2)), m.group(0)


@pytest.mark.parametrize("builder,calib,kwargs", [c[1:] for c in TRANSPOSE_CONV], ids=[c[0] for c in TRANSPOSE_CONV])
def test_transpose_conv_bit_exact(builder, calib, kwargs, neon_lib, capfd):
    model = harness.convert(builder, *calib, **kwargs)
    claimed, total, line = _claimed(model, neon_lib, capfd)
    assert claimed == total, line
    harness.assert_identical(model, neon_lib, seeds=(0, 1, 2, 3))


def test_transpose_conv_with_a_fused_activation_is_left_to_the_runtime_with_its_reason(neon_lib, capfd):
    """Op version 4 fuses the activation into TRANSPOSE_CONV; not claimed (the rest of the model still is)."""
    model = harness.convert("conv2d_transpose", -1, 1, shape=(6, 6, 3), filters=16, kernel=3, activation="relu")
    harness._delegate.cache_clear()
    harness.interpreter(model, neon_lib, log_level="info")
    err = capfd.readouterr().err
    assert "TRANSPOSE_CONV x1 (fused activation (op version 4) not claimed)" in err, err[-800:]
    harness.assert_identical(model, neon_lib)

# grouped CONV_2D cases: filled in with the grouped convolution
GROUPED: list = []
