"""Residual ADDs fused into the GEMM epilogue (delegates/neon/src/ops/fusion.h), whole models against LiteRT's
builtin kernels, bit for bit: MobileNetV2-like inverted residual blocks (the project conv first or second in the
ADD, a RELU fused into the ADD, element counts on and off the multiple of 16 the fusion needs), a dense residual
(FULLY_CONNECTED + ADD), a small ResNet and a MobileNetV2; every variant the CPU has (auto, scalar), 1 and 2
threads, with fuse=on (the default is off). The partition log names the fused pairs; where a pair must not fuse
(the conv's output is also a model output, the ADD's tail would round differently) the log says so and the
result is still exact; fuse=off runs every node alone with the same results. The epilogue itself, every kernel
variant, all 65,536 input pairs: tests/neon/test_gemm_add_kernels.py."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.neon import harness

FUSED = re.compile(r"edgelift-neon: fused (\d+) ADDs? into GEMM epilogues \(nodes((?: \d+\+\d+)+)\)")


def _interpreter(model: bytes, library: str, **options):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

    opts = {"log_level": "debug", "fuse": "on", **{k: str(v) for k, v in options.items()}}  # (default: off)
    it = Interpreter(model_content=model, experimental_delegates=[load_delegate(library, opts)],
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    return it


def _fused_pairs(err: str) -> list[tuple[int, int]]:
    lines = FUSED.findall(err)
    assert len(lines) <= 1, err  # one partition in these models, prepared once
    return [tuple(map(int, p.split("+"))) for p in lines[0][1].split()] if lines else []


def _check(model: bytes, library: str, capfd, **options) -> list[tuple[int, int]]:
    """The delegate with `options` equals builtin on three random inputs; returns the pairs the log names."""
    capfd.readouterr()
    neon = _interpreter(model, library, **options)
    err = capfd.readouterr().err
    ref = harness.interpreter(model)
    for seed in (0, 1, 2):
        xs = harness.inputs_for(ref, seed)
        for want, got in zip(harness.run(ref, xs), harness.run(neon, xs), strict=True):
            assert np.array_equal(want, got), (options, seed, int(np.sum(want != got)), want.size)
    pairs = _fused_pairs(err)
    ops = dict(re.findall(r"node (\d+) (\w+): delegated", err))
    for conv, add in pairs:  # each pair is a GEMM and the ADD it fed
        assert ops[str(conv)] in ("CONV_2D", "FULLY_CONNECTED") and ops[str(add)] == "ADD", (pairs, ops)
    return pairs


BLOCKS = {
    # name: (builder kwargs, ADDs fused)
    "project_first": ({"shape": (8, 8, 16)}, 1),
    "project_second": ({"shape": (8, 8, 16), "conv_second": True}, 1),
    "add_relu": ({"shape": (6, 6, 24), "add_activation": "relu"}, 1),
    "odd_pixels": ({"shape": (5, 5, 16), "expand": 2}, 1),  # 400 = 25 x 16 elements: fusable
    "tail_elements": ({"shape": (3, 5, 7)}, 0),  # 105 elements: the builtin ADD rounds its last 9 as a tail
    "project_seen": ({"shape": (8, 8, 16), "project_seen": True}, 0),  # the conv's output is a model output
}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_inverted_residual_blocks_exact_and_fused_where_allowed(neon_lib, capfd, name):
    kwargs, fused = BLOCKS[name]
    model = harness.convert("inverted_residual", **kwargs)
    for options in ({"kernels": "auto"}, {"kernels": "scalar"}, {"kernels": "auto", "num_threads": 2}):
        assert len(_check(model, neon_lib, capfd, **options)) == fused, (name, options)


def test_unfusable_pairs_say_why(neon_lib, capfd):
    model = harness.convert("inverted_residual", shape=(3, 5, 7))
    capfd.readouterr()
    _interpreter(model, neon_lib)
    assert re.search(r"nodes \d+\+\d+: ADD not fused: the ADD's element count is not a multiple of 16",
                     capfd.readouterr().err)


def test_fuse_off_by_default_runs_every_node_alone_with_the_same_results(neon_lib, capfd):
    model = harness.convert("inverted_residual", shape=(8, 8, 16))
    assert _check(model, neon_lib, capfd, fuse="off") == []
    assert len(_check(model, neon_lib, capfd, fuse="on")) == 1
    capfd.readouterr()
    harness._delegate.cache_clear()
    harness.interpreter(model, neon_lib, log_level="debug")  # no fuse option
    assert "fused" not in capfd.readouterr().err


def test_dense_residual_fuses_fully_connected(neon_lib, capfd):
    model = harness.convert("dense_residual")
    for options in ({"kernels": "auto"}, {"kernels": "scalar"}):
        pairs = _check(model, neon_lib, capfd, **options)
        assert len(pairs) == 1, pairs


@pytest.mark.slow
def test_small_resnet_and_mobilenet_v2_exact_with_their_residuals_fused(neon_lib, capfd):
    assert len(_check(harness.convert("small_resnet"), neon_lib, capfd)) == 2
    model = harness.convert("mobilenet_v2", size=64, alpha=1.0)
    assert len(_check(model, neon_lib, capfd)) == 10  # every residual ADD of MobileNetV2
    assert len(_check(model, neon_lib, capfd, num_threads=2)) == 10
