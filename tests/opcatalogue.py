"""One catalogue of per-op exactness sweeps, shared by the NEON delegate tests (tests/neon/test_op_sweeps.py)
and the XLA path tests (tests/gpu/test_gpu_op_sweeps.py).

Each sweep is one model built with TensorFlow's own converter: several nodes of one op, each fed by its own
model inputs, calibrated on chosen float ranges so the scales and zero points are the ones wanted (extreme
zero points, scales 100x apart, the MobileNetV3 squeeze-excite MUL and rescaling ADD). Every node's inputs are
filled so that its output holds every one of the 65,536 int8 pairs (binary ops) or all 256 values (unary
ops), and the node's shapes steer LiteRT's optimized kernel down one code path each: elementwise vector body,
the scalar tail, the broadcast "fivefold" inner loop, the scalar-broadcast loop (vector body and tail), with
the inputs' roles switched, and the generic reference loop (`category` and `y4`/`y3` name the path, from
TFLite's ProcessBroadcastShapes; tests/gpu/test_gpu_op_sweeps.py checks them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "modelkit"


@dataclass(frozen=True)
class Node:
    kind: str
    a_shape: tuple[int, ...]  # per sample (the model adds a batch dimension of 1)
    b_shape: tuple[int, ...] | None = None
    category: str = "none"  # binary ops: none | first | second | generic (TFLite's broadcast category)


# Binary nodes: together every path of LiteRT's int8 ADD/MUL (optimized_integer_ops, NEON semantics on x86 too).
BINARY_NODES = (
    Node("elementwise", (256, 256), (256, 256), "none"),        # one call, vector body only (65,536 = 16 * 4096)
    Node("inner15", (18, 1, 15), (18, 256, 15), "first"),       # fivefold, y4 = 15: the elementwise tail only
    Node("inner24", (11, 1, 24), (11, 256, 24), "first"),       # y4 = 24: 16 vector + 8 tail per call
    Node("scalar", (256, 1), (256, 256), "first"),              # y4 = 1, y3 = 256: scalar broadcast, vector body
    Node("scalar_tail", (9472, 1), (9472, 7), "first"),         # y3 = 7: scalar broadcast, tail only
    Node("scalar_switched", (256, 256), (256, 1), "second"),    # the second input broadcasts: roles switched
    Node("generic", (16, 1, 16), (1, 256, 1), "generic"),       # not a fivefold pattern: the reference loop
)


def _binary_values(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Indices 0..255 (value + 128) for the two inputs of a binary node, covering every pair in the output."""
    if kind == "elementwise":
        i, j = np.indices((256, 256))
        return i, j
    if kind in ("inner15", "inner24"):
        k, c = (18, 15) if kind == "inner15" else (11, 24)
        a = (np.arange(k)[:, None, None] * c + np.arange(c)[None, None, :]) % 256
        b = np.broadcast_to(np.arange(256)[None, :, None], (k, 256, c))
        return a, b
    if kind == "scalar":
        return np.arange(256)[:, None], np.broadcast_to(np.arange(256)[None, :], (256, 256))
    if kind == "scalar_tail":
        m = np.arange(9472)[:, None]  # value v meets b's 7 * 37 = 259 >= 256 offsets in rows v + 256 t
        return m % 256, (m // 256 * 7 + np.arange(7)[None, :]) % 256
    if kind == "scalar_switched":
        return np.broadcast_to(np.arange(256)[None, :], (256, 256)), np.arange(256)[:, None]
    if kind == "generic":
        return (np.arange(16)[:, None, None] * 16 + np.arange(16)[None, None, :]), np.arange(256)[None, :, None]
    raise ValueError(kind)


@dataclass(frozen=True)
class Sweep:
    name: str
    op: str  # the TFLite op each node must become (the builders are in tests/opmodels.py)
    ranges: tuple[tuple[float, float], ...]  # float calibration range of input a (and b)
    nodes: tuple[Node, ...]
    activation: str | None = None  # fused: relu | relu6
    rounds: int = 1  # invocations with rotated inputs (to put every value through a short tail)
    param: float | str | None = None  # LEAKY_RELU's alpha, GELU's "approximate"/"exact", QUANTIZE's output range
    written: bool = False  # a one-op model written from the converter's output (opmodels.rewrite_single_op)

    @property
    def id(self) -> str:
        return f"{self.op.lower()}-{self.name}"


def _binary(op: str, name: str, a: tuple[float, float], b: tuple[float, float], activation: str | None = None):
    return Sweep(name, op, (a, b), BINARY_NODES, activation)


# 287 = 16 * 17 + 15: a vector body and a scalar tail, where a 16-wide body (272) and a 32-wide one (256)
# differ; 18 rotated rounds put every value in the tail
BODY_TAIL = (Node("body_tail", (287,)),)
# 287 = 8 * 35 + 7 for 8-wide bodies: rotated by 7 a round, 37 rounds put every value in the tail
BODY_TAIL8 = (Node("body_tail8", (287,)),)


def _unary(op: str, ranges, param=None, written: bool = False):
    suffix = f"_{param}" if param is not None else ""
    return tuple(Sweep(f"in{lo:g}_{hi:g}{suffix}", op, ((lo, hi),), BODY_TAIL, rounds=18, param=param,
                       written=written) for lo, hi in ranges)


# BATCH_MATMUL nodes (per sample; the model adds a batch dimension of 1): m, n, k on and off the GEMM tiles
# (4, 8, 16), adj_x / adj_y, broadcast batch dimensions (an RHS [.., 1, k, n] takes LiteRT's folded path, where
# the LHS's rows of all batches form one matrix), the transformer's [2, 16, 16] x [2, 16, 16]. The kind says
# the flags; "const_" nodes take a constant RHS (tests/opmodels.py builds it), the others a second input.
MATMUL_NODES = (
    Node("matmul", (5, 7), (7, 9)),                          # rank 3: m 5, k 7, n 9
    Node("matmul", (3, 17, 33), (3, 33, 15)),                # m 17, k 33, n 15: past every tile by one
    Node("matmul", (2, 16, 16), (2, 16, 16)),                # the transformer's attention scores / values
    Node("matmul_adj_x", (3, 9, 6), (3, 9, 19)),             # LHS given as [k, m]
    Node("matmul_adj_y", (2, 13, 24), (2, 31, 24)),          # RHS given as [n, k] (what builtin packs as is)
    Node("matmul_adj_xy", (4, 8, 1), (4, 3, 8)),             # m 1, both transposed
    Node("matmul", (2, 3, 5, 7), (1, 1, 7, 9)),              # rank 5, RHS broadcast and folded
    Node("matmul_adj_y", (2, 5, 7), (1, 9, 7)),              # folded with a transposed RHS
    Node("matmul", (1, 5, 7), (3, 7, 9)),                    # the LHS broadcast
    Node("matmul", (4, 1, 6, 10), (1, 3, 10, 5)),            # both broadcast, rank 5
)
# Folded with a transposed LHS: LiteRT 2.3 computes the product, tflite-runtime 2.14's builtin other values; the
# delegate leaves these to the runtime (tests/neon/test_batch_matmul_left.py), the XLA path follows LiteRT 2.3.
FOLDED_ADJ_X_NODES = (
    Node("matmul_adj_x", (2, 7, 5), (1, 7, 9)),
    Node("matmul_adj_xy", (3, 2, 6, 4), (1, 1, 5, 6)),
)
CONST_MATMUL_NODES = (
    Node("const_matmul", (3, 5, 7), (3, 7, 9)),
    Node("const_matmul", (2, 16, 33), (1, 33, 17)),          # a constant RHS broadcast over the LHS's batches
    Node("const_matmul_adj_y", (2, 9, 20), (2, 12, 20)),
)


def _matmul(name: str, a: tuple[float, float], b: tuple[float, float]):
    return (Sweep(name, "BATCH_MATMUL", (a, b), MATMUL_NODES, rounds=2),
            Sweep(f"const_{name}", "BATCH_MATMUL", (a,), CONST_MATMUL_NODES, rounds=2, param=b))


MATMUL_SWEEPS = (
    *_matmul("symmetric", (-1, 1), (-1, 1)),
    *_matmul("zp_extremes", (0, 2), (-3, 0)),                  # zero points -128 and +127
    *_matmul("offsets", (-0.4, 1.6), (-2.5, 0.7)),             # zero points in between, both non-zero
    *_matmul("scales_100x", (-0.5, 0.5), (-50, 50)),
)


FOLDED_ADJ_X_SWEEP = Sweep("folded_adj_x", "BATCH_MATMUL", ((-0.4, 1.6), (-2.5, 0.7)), FOLDED_ADJ_X_NODES, rounds=2)


def matmul_flags(node: Node) -> tuple[bool, bool]:
    """(adj_x, adj_y) of a BATCH_MATMUL node."""
    return node.kind.endswith(("_adj_x", "_adj_xy")), node.kind.endswith(("_adj_y", "_adj_xy"))


def matmul_constant(sweep: Sweep, node: Node) -> np.ndarray:
    """The float RHS of a constant-RHS node (per sample shape b_shape), uniform over the sweep's second range."""
    lo, hi = sweep.param
    rng = np.random.default_rng(int(np.prod(node.a_shape)) * 31 + int(np.prod(node.b_shape)))
    return rng.uniform(lo, hi, (1, *node.b_shape)).astype(np.float32)


def _matmul_values(node: Node, round_: int) -> list[np.ndarray]:
    """Random int8 operands with both extremes in each (-128 against -128 and 127 somewhere in every node)."""
    shapes = [node.a_shape] if node.kind.startswith("const_") else [node.a_shape, node.b_shape]
    rng = np.random.default_rng(round_ * 1000 + int(np.prod(node.a_shape)) + 7 * int(np.prod(node.b_shape)))
    out = []
    for shape in shapes:
        v = rng.integers(-128, 128, shape).astype(np.int8)
        v.flat[0], v.flat[-1] = -128, 127
        out.append(v)
    return out


SWEEPS = (
    _binary("ADD", "symmetric", (-1, 1), (-1, 1)),
    _binary("ADD", "zp_extremes", (0, 2), (-3, 0)),                  # zero points -128 and +127
    _binary("ADD", "scales_100x", (-0.5, 0.5), (-50, 50)),
    _binary("ADD", "mnv3_rescaling", (-6.2, 9.1), (-2.4, 2.3)),      # a residual ADD of two branches' scales
    _binary("ADD", "relu", (-1, 1), (-2, 1), "relu"),
    _binary("ADD", "relu6", (-4, 8), (-2, 5), "relu6"),
    _binary("MUL", "symmetric", (-1, 1), (-1, 1)),
    _binary("MUL", "zp_extremes", (0, 2), (-3, 0)),
    _binary("MUL", "scales_100x", (-0.5, 0.5), (-50, 50)),
    _binary("MUL", "mnv3_se", (-0.375, 6.9), (0, 1)),                # hard-swish activations x a [0, 1] gate
    _binary("MUL", "relu", (-1, 1), (-2, 1), "relu"),
    _binary("MUL", "relu6", (-3, 3), (-2, 2), "relu6"),
    _binary("SUB", "symmetric", (-1, 1), (-1, 1)),
    _binary("SUB", "zp_extremes", (0, 2), (-3, 0)),
    _binary("SUB", "scales_100x", (-0.5, 0.5), (-50, 50)),
    _binary("SUB", "relu", (-1, 1), (-2, 1), "relu"),
    _binary("SQUARED_DIFFERENCE", "symmetric", (-1, 1), (-1, 1)),
    _binary("SQUARED_DIFFERENCE", "zp_extremes", (0, 2), (-3, 0)),
    _binary("SQUARED_DIFFERENCE", "layernorm", (-4, 4), (-0.5, 0.5)),   # x - mean(x), squared
    _binary("MAXIMUM", "shared_scale", (-3, 2), (-3, 2)),              # the converter gives both one scale
    _binary("MINIMUM", "shared_scale", (-1, 6), (-1, 6)),
    *(Sweep(f"in{lo:g}_{hi:g}", "LOGISTIC", ((lo, hi),), (Node("all", (256,)),))
      for lo, hi in ((-1, 1), (0, 1), (-8, 8), (-10, 2))),
    # 271 = 16 * 16 + 15: the vector body and the scalar tail; 18 rotated rounds put every value in the tail
    *(Sweep(f"in{lo:g}_{hi:g}", "HARD_SWISH", ((lo, hi),), (Node("body_tail", (271,)),), rounds=18)
      for lo, hi in ((-4, 4), (-8, 8), (-1, 3), (0, 6))),
    *(Sweep(f"in{lo:g}_{hi:g}", "SOFTMAX", ((lo, hi),), (Node("row", (256,)), Node("pairs", (65536, 2))))
      for lo, hi in ((-1, 1), (-8, 8), (-20, 5))),
    # standalone activations (LiteRT: an integer rescale and clamp, or a table built from float math at prepare)
    *_unary("RELU", ((-1, 1), (-10, 2), (-0.5, 6))),
    *_unary("RELU6", ((-1, 1), (-3, 9), (-8, 8))),
    *_unary("RELU_N1_TO_1", ((-2, 2), (-0.5, 3), (-1, 1))),
    *_unary("LEAKY_RELU", ((-1, 1), (-8, 2)), 0.2),
    *_unary("LEAKY_RELU", ((-2, 6),), 0.01),
    *_unary("LEAKY_RELU", ((-4, 4),), 0.3),
    *_unary("TANH", ((-1, 1), (-4, 4), (-10, 2))),
    *_unary("GELU", ((-1, 1), (-5, 5), (-8, 2)), "exact"),
    *_unary("GELU", ((-1, 1), (-5, 5), (-8, 2)), "approximate"),
    *_unary("ELU", ((-1, 1), (-6, 2), (-0.5, 4)), written=True),
    *_unary("RSQRT", ((0.01, 4), (0.5, 2), (0.05, 100))),
    # PRELU: every input value against each of 16 alphas (per channel), one shared alpha, or an alpha per element
    *(Sweep(f"in{lo:g}_{hi:g}_{kind}", "PRELU", ((lo, hi),), (Node("channels", (256, 16)),), param=kind)
      for kind in ("channel", "shared", "full") for lo, hi in ((-1, 1), (-6, 1))),
    # float edges: DEQUANTIZE of every int8 value, QUANTIZE of floats on and between the grid points (ties)
    *(Sweep(f"in{lo:g}_{hi:g}", "DEQUANTIZE", ((lo, hi),), BODY_TAIL8, rounds=37, written=True)
      for lo, hi in ((-1, 1), (0, 6), (-10, 2))),
    *(Sweep(f"in{lo:g}_{hi:g}_float", "QUANTIZE", ((lo, hi),), (Node("floats", (287,)),), rounds=37, param="float",
            written=True) for lo, hi in ((-1, 1), (0, 6), (-10, 2))),
    # QUANTIZE int8 -> int8 (requantize) from the input range to the one param names: multipliers < 1 and > 1
    *_unary("QUANTIZE", ((-2, 2),), "-8_8", written=True),
    *_unary("QUANTIZE", ((-2, 2),), "-0.3_0.2", written=True),
    *_unary("QUANTIZE", ((0, 1),), "-1_5", written=True),
    # data movement: random int8 values (a misplaced element shows), one node per variant as TF emits it; the
    # variants (tests/opmodels.py MOVES) cover negative strides, masks, shrinking axes, permutations
    *(Sweep(f"{variant}_in{lo:g}_{hi:g}", op, ((lo, hi),), (Node("random", shape),), rounds=2, param=variant,
            written=op == "SQUEEZE") for op, variant, shape, (lo, hi) in (
          ("TRANSPOSE", "nchw", (6, 5, 7), (-1, 1)),
          ("TRANSPOSE", "hw", (6, 5, 7), (0, 2)),
          ("TRANSPOSE", "heads", (5, 4, 8), (-3, 1)),       # attention: [b, t, heads, d] -> [b, heads, t, d]
          ("TRANSPOSE", "rank3", (33, 17), (-1, 1)),
          ("STRIDED_SLICE", "steps", (9, 8, 7), (-1, 1)),   # begin/end masks, stride 2, a reversed axis
          ("STRIDED_SLICE", "shrink", (9, 8, 7), (0, 6)),   # an axis shrunk away, stride 3
          ("STRIDED_SLICE", "negative", (9, 8, 7), (-2, 1)),  # negative begin/end, stride -2
          ("STRIDED_SLICE", "last", (6, 10), (-1, 1)),      # x[:, -1]: the token a classifier head keeps
          ("SLICE", "box", (9, 8, 7), (-1, 1)),
          ("SLICE", "tail", (6, 10), (0, 2)),
          ("EXPAND_DIMS", "mid", (6, 7), (-1, 1)),
          ("SQUEEZE", "mid", (6, 1, 7), (-1, 1)),           # a RESHAPE by the converter, rewritten
          ("DEPTH_TO_SPACE", "b2", (5, 6, 12), (-1, 1)),
          ("DEPTH_TO_SPACE", "b3", (3, 4, 18), (0, 6)),
          ("SPACE_TO_DEPTH", "b2", (6, 8, 3), (-1, 1)),
          ("SPACE_TO_DEPTH", "b3", (6, 9, 5), (-2, 2)),
          ("SPLIT", "three", (6, 9, 5), (-1, 1)),          # several outputs from one node
          ("SPLIT", "channels", (4, 4, 8), (0, 6)),
          ("SPLIT_V", "sizes", (9, 8, 7), (-1, 1)),        # sizes 2, 5 and the rest (-1)
          ("SPLIT_V", "last", (6, 10), (-2, 1)),
          ("GATHER", "rows", (6, 5, 7), (-1, 1)),          # constant indices, repeated and out of order
          ("GATHER", "channels", (6, 5, 7), (0, 6)),
          ("GATHER", "table", (6, 10), (-2, 1)),           # 2-D indices into the last axis
          ("REDUCE_MAX", "spatial", (6, 5, 7), (-1, 1)),   # keepdims over H and W (global max pooling)
          ("REDUCE_MAX", "channels", (6, 5, 7), (0, 6)),   # the last axis, dropped
          ("REDUCE_MAX", "rows", (6, 10), (-2, 1)),
          # resizes: Keras' UpSampling2D and tf.image.resize (half-pixel centers), TF1's align_corners and
          # legacy (neither) modes; up and down, odd factors
          *((op, variant, (5, 6, 7), rng) for op in ("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR")
            for variant, rng in (("up2", (-1, 1)), ("size7x4", (0, 6)), ("align", (-2, 1)), ("legacy", (-1, 1)),
                                 ("down", (-1, 1)))),
      )),
    *MATMUL_SWEEPS,
)

# Reductions and weighted layers (tests/opmodels.py _layers) on random int8 inputs, several rounds: MEAN over
# every axis set the zoo uses (LayerNorm's channels, tokens, spatial with and without keep_dims: both of the
# builtin's kernels), TRANSPOSE_CONV (strides 1-3, SAME/VALID, even kernels, stride > kernel, output channels
# past a multiple of 8, fused RELU, no bias) and grouped CONV_2D (one channel a group, two filters a group,
# general groups). Both the NEON delegate (tests/neon/test_op_sweeps.py) and the XLA path run them; unlike
# SWEEPS their models may hold the converter's int32 shape arithmetic too (swept_ops leaves it out).
LAYER_SWEEPS = tuple(
    Sweep(f"{variant}_in{lo:g}_{hi:g}", op, ((lo, hi),), (Node("random", shape),), rounds=8, param=variant)
    for op, variant, shape, (lo, hi) in (
        ("MEAN", "channels_keep", (6, 5, 96), (-1, 1)),
        ("MEAN", "channels_keep", (6, 5, 96), (0, 6)),      # zero point -128: a shifted sum
        ("MEAN", "channels", (6, 5, 17), (-3, 1)),
        ("MEAN", "spatial_keep", (6, 5, 7), (-1, 1)),       # the optimized kernel
        ("MEAN", "spatial", (6, 5, 7), (-2, 5)),
        ("MEAN", "batch_spatial_keep", (4, 3, 16), (-1, 1)),  # [0, 1, 2] like the transformer (kept)
        ("MEAN", "tokens", (9, 32), (-1, 2)),               # over the sequence of a rank-3 tensor
        ("MEAN", "rank2", (300,), (-4, 4)),
        ("MEAN", "channels_keep_samequant", (6, 5, 96), (-1, 3)),  # output quantization = input's
        ("MEAN", "tokens_samequant", (9, 32), (0, 6)),
        # SUM: the last axis, [1, 2], all (with and without the batch axis), negative axes, keep_dims both ways;
        # the converter's output range, the input's own quantization (_samequant: still requantized by the
        # builtin), and half that range (_tightout: scale x 2, zero point + 5, so sums saturate and x.5 ties
        # occur); zero points -128 ([0, 6]), 42 ([-2, 1]), -1; random int8 inputs hold -128 and 127
        ("SUM", "channels", (6, 5, 96), (-1, 1)),
        ("SUM", "channels_keep", (6, 5, 96), (0, 6)),
        ("SUM", "channels_tightout", (6, 5, 96), (-1, 1)),
        ("SUM", "channels_keep_samequant", (6, 5, 96), (0, 6)),
        ("SUM", "spatial_keep", (6, 5, 7), (-1, 1)),
        ("SUM", "spatial_keep_tightout", (6, 5, 7), (-2, 1)),
        ("SUM", "spatial", (6, 5, 7), (-2, 1)),
        ("SUM", "spatial_samequant", (6, 5, 7), (-1, 1)),
        ("SUM", "all", (6, 5, 7), (0, 6)),
        ("SUM", "all_keep", (6, 5, 7), (-1, 1)),
        ("SUM", "all_keep_tightout", (6, 5, 7), (0, 6)),
        ("SUM", "negative", (6, 5, 7), (-2, 1)),
        ("SUM", "negative_samequant", (6, 5, 7), (-2, 1)),
        ("SUM", "negative_tightout", (6, 5, 7), (-1, 1)),
        ("SUM", "tokens", (9, 32), (-1, 2)),
        ("SUM", "tokens_tightout", (9, 32), (-1, 2)),
        ("SUM", "rank2", (300,), (-4, 4)),
        ("SUM", "rank2_samequant", (300,), (0, 6)),
        ("TRANSPOSE_CONV", "s2_same_c20", (5, 6, 12), (-1, 1)),
        ("TRANSPOSE_CONV", "s2_valid_c13", (5, 6, 12), (0, 6)),
        ("TRANSPOSE_CONV", "k4_s1_same", (5, 6, 9), (-2, 1)),
        ("TRANSPOSE_CONV", "k2_s3_valid", (4, 5, 7), (-1, 1)),
        ("TRANSPOSE_CONV", "s21_same_relu", (5, 6, 8), (-1, 3)),
        ("TRANSPOSE_CONV", "k2_s2_nobias", (8, 8, 64), (-1, 1)),   # the U-Net's up-convolution, 11 channels
        ("CONV_2D", "groups_c", (6, 7, 12), (-1, 1)),
        ("CONV_2D", "groups_c_k7", (9, 9, 12), (0, 6)),
        ("CONV_2D", "groups_c_x2", (6, 7, 12), (-1, 1)),
        ("CONV_2D", "groups_4", (7, 8, 12), (-2, 1)),
        ("CONV_2D", "groups_2_relu", (5, 6, 8), (-1, 1)),
    )) + tuple(
    # SUM exhaustively over its input domain, the sums: every value from -128 n to 127 n (n = 8) once a round
    Sweep(f"every_sum_{variant}_in{lo:g}_{hi:g}", "SUM", ((lo, hi),), (Node("every_sum", (255 * 8 + 1, 8)),),
          rounds=2, param=variant)
    for variant, (lo, hi) in (("channels", (-1, 1)), ("channels", (0, 6)), ("channels_keep", (-3, 1)),
                              ("channels_samequant", (-2, 1)), ("channels_tightout", (-1, 1)),
                              ("channels_tightout", (0, 6))))

# Keras' Conv2DTranspose computes its output shape at run time (SHAPE -> STRIDED_SLICE -> PACK): int32 nodes
# beside the swept one, which the XLA path folds
SHAPE_ARITHMETIC = frozenset({"SHAPE", "STRIDED_SLICE", "PACK"})


def swept_ops(sweep: Sweep, model: bytes) -> dict[str, int]:
    """The model's op histogram without a layer sweep's int32 shape arithmetic."""
    hist = op_histogram(model)
    if sweep in LAYER_SWEEPS:
        hist = {k: v for k, v in hist.items() if k not in SHAPE_ARITHMETIC}
    return hist


def values(sweep: Sweep, node: Node, round_: int = 0) -> list[np.ndarray]:
    """int8 inputs of one node (per sample, without the batch dimension)."""
    if sweep.op == "BATCH_MATMUL":
        return _matmul_values(node, round_)
    if node.b_shape is not None:
        return [(np.ascontiguousarray(v) - 128).astype(np.int8) for v in _binary_values(node.kind)]
    n = int(np.prod(node.a_shape))
    if node.kind == "random":  # data movement: a misplaced element shows
        rng = np.random.default_rng(round_ * 1000 + n)
        return [rng.integers(-128, 128, node.a_shape).astype(np.int8)]
    if node.kind == "every_sum":  # row k sums to -128 n + k: every int32 sum an n-wide SUM can see, once
        return [_every_sum(node.a_shape, round_)]
    if node.kind == "channels":  # value i in row i, for every channel
        return [np.broadcast_to(np.arange(256, dtype=np.int64)[:, None] - 128, node.a_shape).astype(np.int8)]
    if node.kind == "pairs":
        i = np.arange(n // 2)
        idx = np.stack([i // 256 % 256, i % 256], axis=-1)
    else:
        idx = (round_ * (7 if node.kind in ("body_tail8", "floats") else 15) + np.arange(n)) % 256
    if node.kind == "floats":  # grid point q plus a fraction of a step (ties, near-ties), scaled in floats()
        frac = FRACTIONS[round_ % len(FRACTIONS)]
        return [((idx - 128).astype(np.float64) + frac).reshape(node.a_shape)]
    return [(idx.reshape(node.a_shape) - 128).astype(np.int8)]


def _every_sum(shape: tuple[int, ...], round_: int) -> np.ndarray:
    """(255 n + 1, n) int8 rows, row k summing to -128 n + k: as even as possible, then shuffled (rows and the
    values within each row) by the round."""
    rows, n = shape
    assert rows == 255 * n + 1, shape
    target = np.arange(rows) - 128 * n
    base, extra = np.divmod(target, n)
    x = base[:, None] + (np.arange(n)[None, :] < extra[:, None])
    rng = np.random.default_rng(round_)
    x = rng.permuted(x, axis=1)[rng.permutation(rows)] if round_ else x
    return x.astype(np.int8)


FRACTIONS = (0.0, 0.5, -0.5, 0.25, 0.4999, 0.5001, -0.4999, -0.5001, 0.75)


def floats(steps: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float inputs of a QUANTIZE node: (q - zp + fraction) * scale, plus values far out of range."""
    x = ((steps - zero_point) * np.float64(scale)).astype(np.float32)
    x.flat[0], x.flat[-1] = np.float32(1e6), np.float32(-1e6)
    return x


def pairs_covered(node: Node) -> int:
    """Distinct (a, b) index pairs a binary node's output holds (the sweep's own self-check: 65,536)."""
    a, b = _binary_values(node.kind)
    a, b = np.broadcast_arrays(a, b)
    return len(np.unique(a.astype(np.int64) * 256 + b))


# -- models --------------------------------------------------------------------------------------------
def _input_name(k: int, which: str) -> str:
    return f"n{k}{which}"


def convert(sweep: Sweep) -> bytes:
    """The sweep's int8 model (int8 in/out), converted by TensorFlow and cached (tests/opmodels.py)."""
    from tests import opmodels

    return opmodels.convert(sweep)


def feeds(sweep: Sweep, model: bytes, round_: int = 0) -> tuple[list[np.ndarray], dict[int, tuple[int, Node]]]:
    """Inputs in the model's input order (with the batch dimension), and which node each input belongs to."""
    from edgelift.tflite_model import load

    m = load(model)
    by_name = {}
    for k, node in enumerate(sweep.nodes):
        for which, v in zip("ab", values(sweep, node, round_), strict=False):
            by_name[_input_name(k, which)] = (k, node, v)
    out, owner = [], {}
    for pos, t in enumerate(m.inputs):
        name = m.tensors[t].name
        match = [n for n in by_name if f"_{n}:" in name or name.endswith(n) or f"{n}:" in name]
        if len(match) != 1:
            raise AssertionError(f"cannot tell which node input {name!r} is (candidates {match})")
        k, node, v = by_name[match[0]]
        if node.kind == "floats":
            q = m.tensors[m.operators[0].outputs[0]]
            v = floats(v, float(q.scales[0]), int(q.zero_points[0]))
        out.append(v[None])
        owner[pos] = (k, node)
    return out, owner


def op_histogram(model: bytes) -> dict[str, int]:
    from edgelift.tflite_model import load

    return load(model).op_histogram()


def first_difference(model: bytes, xs: list[np.ndarray], out_tensor: int, want: np.ndarray, got: np.ndarray) -> str:
    """'' when identical, else a line naming the op, the count, the first index, its inputs and both values."""
    if np.array_equal(want, got):
        return ""
    from edgelift.tflite_model import load

    m = load(model)
    op = next(o for o in m.operators if out_tensor in o.outputs)
    diff = np.argwhere(want != got)
    first = tuple(int(v) for v in diff[0])
    ins = []
    for t in op.inputs:
        if t not in m.inputs:
            continue  # a constant operand (permutation, begin/end, axis)
        q = m.tensors[t]
        x = xs[m.inputs.index(t)].reshape(q.shape)
        # data movement: the output index is not an input index
        try:
            v = int(np.broadcast_to(x, want.shape)[first])
        except ValueError:
            v = "-"
        ins.append(f"{v} (scale {float(q.scales[0]):.6g}, zp {int(q.zero_points[0])})")
    o = m.tensors[out_tensor]
    return (f"{op.op_name} -> {o.name} {want.shape}: {len(diff)} of {want.size} values differ; first at {first}: "
            f"inputs {', '.join(ins)}; output scale {float(o.scales[0]):.6g} zp {int(o.zero_points[0])}: "
            f"builtin {int(want[first])}, got {int(got[first])}")
