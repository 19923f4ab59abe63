"""Depthwise -> project 1x1 fused per row band (fuse=dwconv, or fuse=on with the residual ADDs;
delegates/neon/src/ops/fusion.h), and the expand 1x1 in front as well (fuse=block / all), whole models against
LiteRT's builtin kernels, bit for bit: one-block models with odd sizes, strides 1 and 2, SAME (top row padded or
not) and VALID padding, relu6 / relu / no activation on the depthwise, bands with a short last band, bands of one
row, a halo past its budget, MobileNetV2's block shapes (expand 1x1 in front, the residual ADD after) and a whole
MobileNetV2; every variant the CPU has (auto, scalar), 1 and 2 threads, batch 1 and 3. The partition log
names the fused pairs; where a pair must not fuse (the depthwise output is also a model output, a 5x5 filter) the
log says why and the result is still exact. The same models on the emulated Pi 4 / Pi 5:
tests/emulated_pi/test_dw_project_fusion_on_emulated_pi.py."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.neon import harness

FUSED_DW = re.compile(r"edgelift-neon: fused (\d+) 1x1 CONV_2Ds? into depthwise row bands \(nodes((?: \d+\+\d+)+)\)")
FUSED_ADD = re.compile(r"edgelift-neon: fused (\d+) ADDs? into GEMM epilogues")

# name: (modelkit.depthwise_project kwargs, pairs fused)
BLOCKS = {
    "s1_same_odd": ({"shape": (9, 11, 17), "filters": 23}, 1),
    "s2_same_odd": ({"shape": (11, 9, 19), "strides": 2, "filters": 13}, 1),
    "s1_valid": ({"shape": (10, 7, 5), "padding": "valid", "filters": 9, "dw_activation": "relu"}, 1),
    "s2_valid_linear": ({"shape": (13, 13, 24), "strides": 2, "padding": "valid", "filters": 40,
                         "dw_activation": None}, 1),
    # 32768 // (15 x 40) = 54 rows a band: 61 rows are a band of 54 and one of 7
    "short_last_band": ({"shape": (61, 15, 40), "filters": 24}, 1),
    # two rows of 67 x 256 bytes are past the band budget (32 KB): one row a band
    "one_row_bands": ({"shape": (5, 67, 256), "filters": 16, "strides": 1}, 1),
    # MobileNetV2's block shapes (at a smaller image): expand x6, depthwise, project (+ the residual)
    "mnv2_first_block": ({"shape": (16, 16, 32), "filters": 16}, 1),
    "mnv2_s2_144": ({"shape": (28, 28, 24), "expand": 6, "strides": 2, "filters": 32}, 1),
    "mnv2_576_residual": ({"shape": (14, 14, 96), "expand": 6, "filters": 96, "residual": True}, 1),
    "mnv2_960_residual": ({"shape": (7, 7, 160), "expand": 6, "filters": 160, "residual": True}, 1),
    # with an expand 1x1 in front (fuse=block): SAME stride 2 on odd (1 row padded on top) and even heights (none)
    "x_s1_same_odd": ({"shape": (9, 11, 5), "expand": 3, "filters": 7}, 1),
    "x_s2_same_odd": ({"shape": (11, 9, 6), "expand": 4, "strides": 2, "filters": 9}, 1),
    "x_s2_same_even": ({"shape": (10, 12, 8), "expand": 2, "strides": 2, "filters": 8}, 1),
    "x_s1_valid": ({"shape": (10, 7, 5), "expand": 3, "padding": "valid", "filters": 6}, 1),
    "x_s2_valid": ({"shape": (13, 13, 8), "expand": 3, "strides": 2, "padding": "valid", "filters": 5}, 1),
    "x_short_last_band": ({"shape": (61, 15, 8), "expand": 5, "filters": 24}, 1),
    # 17 rows a band by the output's budget; their 35 input rows of 3840 bytes are past the halo's (64 KB): 8 rows
    "x_s2_halo_shrinks": ({"shape": (40, 40, 16), "expand": 6, "strides": 2, "filters": 16}, 1),
    "x_one_row_bands": ({"shape": (5, 67, 32), "expand": 8, "filters": 16}, 1),
    "dw_seen": ({"shape": (9, 9, 16), "dw_seen": True}, 0),  # the intermediate is a model output
    "dw_5x5": ({"shape": (9, 9, 16), "kernel": 5}, 0),
}
EXPANDED = sorted(n for n, (kw, _) in BLOCKS.items() if kw.get("expand"))
FUSED_EXPAND = re.compile(r"edgelift-neon: fused (\d+) expand 1x1s? into depthwise row bands \(nodes((?: \d+\+\d+)+)\)")
OPTIONS = ({"kernels": "auto"}, {"kernels": "scalar"}, {"kernels": "auto", "num_threads": 2})


def _interpreter(model: bytes, library: str, **options):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

    opts = {"log_level": "debug", "fuse": "dwconv", **{k: str(v) for k, v in options.items()}}
    return Interpreter(model_content=model, experimental_delegates=[load_delegate(library, opts)],
                       experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)


def _resized(it, batch: int):
    if batch != 1:
        for d in it.get_input_details():
            it.resize_tensor_input(d["index"], [batch, *d["shape"][1:]])
    it.allocate_tensors()
    return it


def _check(model: bytes, library: str, capfd, batch: int = 1, **options) -> tuple[list[tuple[int, int]], str]:
    """The delegate with `options` equals builtin on three random inputs; returns the fused (depthwise, conv)
    pairs the log names and the log."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    capfd.readouterr()
    neon = _resized(_interpreter(model, library, **options), batch)
    err = capfd.readouterr().err
    ref = _resized(Interpreter(model_content=model,
                               experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES), batch)
    for seed in (0, 1, 2):
        xs = harness.inputs_for(ref, seed)
        for want, got in zip(harness.run(ref, xs), harness.run(neon, xs), strict=True):
            assert np.array_equal(want, got), (options, batch, seed, int(np.sum(want != got)), want.size)
    lines = FUSED_DW.findall(err)
    assert len(lines) <= 1 + (batch != 1), err  # one partition, prepared once (again after a resize)
    pairs = [tuple(map(int, p.split("+"))) for p in lines[-1][1].split()] if lines else []
    ops = dict(re.findall(r"node (\d+) (\w+): delegated", err))
    for dw, conv in pairs:
        assert ops[str(dw)] == "DEPTHWISE_CONV_2D" and ops[str(conv)] == "CONV_2D", (pairs, ops)
    return pairs, err


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_blocks_exact_and_fused_where_allowed(neon_lib, capfd, name):
    kwargs, fused = BLOCKS[name]
    model = harness.convert("depthwise_project", **kwargs)
    for options in OPTIONS:
        assert len(_check(model, neon_lib, capfd, **options)[0]) == fused, (name, options)


# name: (output rows a band, most input rows a band) the debug log must give, where the budgets put them
GEOMETRY = {"short_last_band": (54, None), "one_row_bands": (1, None), "x_short_last_band": (54, 56),
            "x_s2_halo_shrinks": (8, 17), "x_one_row_bands": (1, 3)}


@pytest.mark.parametrize("name", sorted(GEOMETRY))
def test_band_sizes_follow_the_budgets(neon_lib, capfd, name):
    rows, halo = GEOMETRY[name]
    _, err = _check(harness.convert("depthwise_project", **BLOCKS[name][0]), neon_lib, capfd,
                    fuse="dwconv" if halo is None else "block")
    if halo is None:
        assert re.search(rf"1x1 fused into the depthwise's row bands \({rows} rows a band\)", err), err
    else:
        assert re.search(rf"expand 1x1 fused into the depthwise's row bands \({rows} rows a band, up to {halo} input "
                         r"rows\)", err), err


def test_unfusable_pairs_say_why(neon_lib, capfd):
    _, err = _check(harness.convert("depthwise_project", **BLOCKS["dw_5x5"][0]), neon_lib, capfd)
    assert re.search(r"nodes \d+\+\d+: 1x1 not fused: a depthwise filter other than 3x3", err), err


def test_residual_add_and_depthwise_fuse_together_with_fuse_on(neon_lib, capfd):
    model = harness.convert("depthwise_project", **BLOCKS["mnv2_576_residual"][0])
    for options in OPTIONS:
        pairs, err = _check(model, neon_lib, capfd, fuse="on", **options)
        assert len(pairs) == 1 and FUSED_ADD.search(err), (options, err)
    pairs, err = _check(model, neon_lib, capfd, fuse="add")
    assert pairs == [] and FUSED_ADD.search(err), err
    pairs, err = _check(model, neon_lib, capfd, fuse="off")
    assert pairs == [] and "fused" not in err, err


@pytest.mark.parametrize("threads", [1, 2])
def test_a_batch_of_three_runs_band_by_band_through_every_image(neon_lib, capfd, threads):
    model = harness.convert("depthwise_project", **BLOCKS["short_last_band"][0])
    assert len(_check(model, neon_lib, capfd, batch=3, num_threads=threads)[0]) == 1
    model = harness.convert("depthwise_project", **BLOCKS["mnv2_960_residual"][0])
    assert len(_check(model, neon_lib, capfd, batch=3, fuse="on", num_threads=threads)[0]) == 1


@pytest.mark.parametrize("name", EXPANDED)
def test_expand_fused_in_front_computes_each_bands_rows_exactly(neon_lib, capfd, name):
    model = harness.convert("depthwise_project", **BLOCKS[name][0])
    for options in (*OPTIONS, {"fuse": "all"}, {"fuse": "all", "num_threads": 2}):
        pairs, err = _check(model, neon_lib, capfd, **{"fuse": "block", **options})
        expands = FUSED_EXPAND.findall(err)
        assert len(pairs) == 1 and len(expands) == 1 and expands[0][0] == "1", (name, options, err)
        (conv, dw), = [tuple(map(int, p.split("+"))) for p in expands[0][1].split()]
        assert dw == pairs[0][0] and conv < dw, (expands, pairs)  # the expand feeding the fused depthwise


def test_expand_left_apart_at_batch_three_says_why_and_stays_exact(neon_lib, capfd):
    model = harness.convert("depthwise_project", **BLOCKS["x_s2_same_odd"][0])
    pairs, err = _check(model, neon_lib, capfd, batch=3, fuse="block", num_threads=2)
    assert len(pairs) == 1 and "expand 1x1 not fused: a batch of more than one image" in err, err


@pytest.mark.slow
def test_mobilenet_v2_exact_with_every_depthwise_fused(neon_lib, capfd):
    model = harness.convert("mobilenet_v2", size=64, alpha=1.0)
    for options in ({"fuse": "dwconv"}, {"fuse": "on"}, {"fuse": "on", "num_threads": 2}):
        pairs, _ = _check(model, neon_lib, capfd, **options)
        assert len(pairs) == 17, (options, pairs)  # MobileNetV2's 17 blocks: each depthwise feeds its project 1x1
    for options in ({"fuse": "block"}, {"fuse": "all", "num_threads": 2}):
        pairs, err = _check(model, neon_lib, capfd, **options)
        expands = FUSED_EXPAND.findall(err)
        assert len(pairs) == 17 and expands and expands[0][0] == "16", (options, err[-2000:])  # all but the first


@pytest.mark.slow
def test_fused_blocks_clean_under_asan_and_ubsan(neon_lib_asan, tmp_path):
    """The band loop, its scratch and the arena that no longer holds the intermediate, under the sanitizers
    (fuse=all: with the expand in front and the residual ADDs too; each model resized to batch 2 as well)."""
    from tests.neon.test_sanitizers import assert_clean_under_sanitizers

    paths = []
    for name in ("short_last_band", "one_row_bands", "s2_same_odd", "mnv2_960_residual", "x_s2_halo_shrinks",
                 "x_s2_same_odd", "x_one_row_bands"):
        path = tmp_path / f"resized-{name}.tflite"
        path.write_bytes(harness.convert("depthwise_project", **BLOCKS[name][0]))
        paths.append(path)
    assert_clean_under_sanitizers(neon_lib_asan, paths, fuse="all")
