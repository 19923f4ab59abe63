"""TRANSPOSE_CONV (Keras Conv2DTranspose) and grouped CONV_2D (Keras Conv2D(groups=...), ConvNeXt's depthwise
7x7) through the NEON delegate, bit-exact against LiteRT 2.3's builtin kernels on x86-64.

TRANSPOSE_CONV's builtin epilogue requantizes whole groups of 8 channels one way (its vector body) and the rest
another (its tail): channel counts 7, 9, 16, 17 and 32 put outputs on both sides, and the spatial sizes are
large enough (thousands of outputs per path) that a wrong rounding rule shows (it differs on about 1 output in
300). Strides 1-3, SAME/VALID, filters larger and smaller than the stride, no bias, zero points at the extremes
([0, 1] gives -128, [-1, 0] gives +127). Grouped CONV_2D: one input channel per group (the depthwise kernels,
depth multipliers 1 and 2, 7x7, 5x5, dilation) and several (the grouped loop), fused RELU/RELU6. Weights at
-128 for all three paths. Each case asserts that the delegate claimed every node.
"""

from __future__ import annotations

import re

import numpy as np
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


def with_output_range(blob: bytes, lo: float, hi: float) -> bytes:
    """The model with its output quantized for [lo, hi] (scale and zero point as the converter computes them):
    a fused RELU / RELU6 then clamps inside the int8 range, where the converter's own calibration (output range
    [0, ...]) makes the clamp coincide with -128 and hides it."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(blob, 0)
    sg = m.subgraphs[0]
    scale = np.float32((hi - lo) / 255.0)
    q = sg.tensors[int(sg.outputs[0])].quantization
    q.scale, q.zeroPoint = [float(scale)], [int(np.clip(round(-128 - lo / float(scale)), -128, 127))]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.mark.parametrize("activation", ["relu", "relu6"])
def test_transpose_conv_fused_activation_bit_exact(activation, neon_lib, capfd):
    """Op version 4 fuses the activation into TRANSPOSE_CONV; both clamps inside the output's range."""
    from edgelift.tflite_model import load

    model = harness.convert("conv2d_transpose", -4, 4, shape=(8, 8, 6), filters=17, kernel=3, activation=activation)
    model = with_output_range(model, -3.0, 9.0)
    op = next(o for o in load(model).operators if o.op_name == "TRANSPOSE_CONV")
    assert op.version >= 4 and op.options.fusedActivationFunction != 0, (op.version, op.options)
    claimed, total, line = _claimed(model, neon_lib, capfd)
    assert claimed == total, line
    ref = harness.interpreter(model)
    y = harness.run(ref, harness.inputs_for(ref, 0))[0]
    zp = int(load(model).tensors[load(model).outputs[0]].zero_points[0])
    assert y.min() == zp and y.max() > zp, "the clamp at zero must be visible in the output"
    harness.assert_identical(model, neon_lib, seeds=(0, 1, 2))

# Grouped CONV_2D: the builtin computes it with its reference loop, double rounding on every channel (the
# depthwise kernels' vector-body rounding is off on 1-4 outputs of 400-3,500 here: these sizes catch it).
GROUPED = [
    ("grouped_7x7_c64_g64", "grouped_conv2d", (-1, 1),  # ConvNeXt's depthwise 7x7
     dict(shape=(14, 14, 64), filters=64, kernel=7, groups=64)),
    ("grouped_7x7_c24_g24_zp-128", "grouped_conv2d", (0, 1),
     dict(shape=(12, 12, 24), filters=24, kernel=7, groups=24)),
    ("grouped_3x3_s2_c8_g8_f16_multiplier2", "grouped_conv2d", (-1, 1),
     dict(shape=(17, 17, 8), filters=16, kernel=3, groups=8, strides=2)),
    ("grouped_5x5_valid_c17_g17_relu6_zp127", "grouped_conv2d", (-1, 0),
     dict(shape=(13, 13, 17), filters=17, kernel=5, groups=17, padding="valid", activation="relu6")),
    ("grouped_3x3_dilation2_c9_g9", "grouped_conv2d", (-1, 1),
     dict(shape=(13, 13, 9), filters=9, kernel=3, groups=9, dilation=2)),
    ("grouped_3x3_c12_g4", "grouped_conv2d", (-1, 1),  # 3 input channels per group: the grouped loop
     dict(shape=(15, 15, 12), filters=12, kernel=3, groups=4)),
    ("grouped_3x3_valid_c16_g2_f24_relu", "grouped_conv2d", (-1, 1),
     dict(shape=(14, 14, 16), filters=24, kernel=3, groups=2, padding="valid", activation="relu")),
    ("grouped_1x1_c32_g8_f40_nobias_zp-128", "grouped_conv2d", (0, 1),
     dict(shape=(12, 12, 32), filters=40, kernel=1, groups=8, use_bias=False)),
]


def with_minus_128(blob: bytes, op_name: str) -> bytes:
    """The model with every weight of its `op_name` node that quantized to -127 set to -128 (outside TFLite's
    int8 spec, but other quantizers write it, and kernels that pair products in int16 must not take it)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(blob, 0)
    sg = m.subgraphs[0]
    op = next(o for o in sg.operators if max(m.operatorCodes[o.opcodeIndex].builtinCode,
                                             m.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode)
              == getattr(schema.BuiltinOperator, op_name))
    buf = m.buffers[sg.tensors[int(op.inputs[1])].buffer]  # the weights: input 1 of both ops
    w = np.frombuffer(bytes(buf.data), np.int8).copy()
    assert (w == -127).any(), "no weight at -127 to turn into -128"
    w[w == -127] = -128
    buf.data = w.view(np.uint8)
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.mark.parametrize("builder,calib,kwargs", [c[1:] for c in GROUPED], ids=[c[0] for c in GROUPED])
def test_grouped_conv_bit_exact(builder, calib, kwargs, neon_lib, capfd):
    model = harness.convert(builder, *calib, **kwargs)
    claimed, total, line = _claimed(model, neon_lib, capfd)
    assert claimed == total, line
    harness.assert_identical(model, neon_lib, seeds=(0, 1, 2, 3))


@pytest.mark.parametrize("op,builder,kwargs", [
    ("TRANSPOSE_CONV", "conv2d_transpose", dict(shape=(8, 8, 16), filters=17, kernel=3)),
    ("CONV_2D", "grouped_conv2d", dict(shape=(12, 12, 32), filters=32, kernel=7, groups=32)),
    ("CONV_2D", "grouped_conv2d", dict(shape=(12, 12, 12), filters=24, kernel=3, groups=3)),
], ids=["tconv", "grouped_depthwise", "grouped_loop"])
def test_minus_128_weights_bit_exact(op, builder, kwargs, neon_lib, capfd):
    model = with_minus_128(harness.convert(builder, -1, 1, **kwargs), op)
    claimed, total, line = _claimed(model, neon_lib, capfd)
    assert claimed == total, line
    harness.assert_identical(model, neon_lib, seeds=(0, 1, 2))


@pytest.mark.parametrize("builder,kwargs", [
    ("conv2d_transpose", dict(shape=(12, 12, 8), filters=9, kernel=3)),
    ("grouped_conv2d", dict(shape=(14, 14, 64), filters=64, kernel=7, groups=64)),
    ("grouped_conv2d", dict(shape=(15, 15, 12), filters=12, kernel=3, groups=4)),
], ids=["tconv", "grouped_depthwise", "grouped_loop"])
def test_batch_3_and_two_threads_bit_exact(builder, kwargs, neon_lib, capfd):
    """A resized batch (TRANSPOSE_CONV's output shape is computed from it in front of the node) on 2 threads."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

    model = harness.convert(builder, -1, 1, **kwargs)
    its = []
    for delegates in ([], [load_delegate(neon_lib, {"num_threads": "2", "log_level": "info"})]):
        it = Interpreter(model_content=model, experimental_delegates=delegates,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        d = it.get_input_details()[0]
        it.resize_tensor_input(d["index"], [3, *d["shape"][1:]])
        it.allocate_tensors()
        its.append(it)
    m = LINE.search(capfd.readouterr().err)
    assert m and m.group(1) == m.group(2), m and m.group(0)
    x = np.random.default_rng(7).integers(-128, 128, its[0].get_input_details()[0]["shape"], dtype=np.int8)
    want, got = (harness.run(it, [x])[0] for it in its)
    assert want.shape[0] == 3 and want.shape == got.shape, (want.shape, got.shape)
    assert np.array_equal(want, got), f"{int((want != got).sum())} of {want.size} values differ"
