"""Depthwise -> project 1x1 fused per row band (fuse=dwconv), with the expand 1x1 in front and the residual ADDs
too (fuse=all), in the cross-built delegate on the emulated Pi 4 and Pi 5: the one-block models of
tests/neon/test_dw_project_fusion.py (strides 1 and 2, SAME / VALID, a short last band, one-row bands, a halo past
its budget, MobileNetV2's block shapes with the residual ADD) and the full MobileNetV2 224 give outputs identical
to x86-64 LiteRT 2.3's builtin kernels with every kernel variant the board has, and the partition log names as
many fused pairs as on x86."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.emulated_pi.conftest import MOBILENET_V2, Case, _model_bytes, identical_problem
from tests.emulated_pi.pi import CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import aarch64_delegate  # noqa: F401  (fixture)
from tests.neon import harness
from tests.neon.test_dw_project_fusion import BLOCKS

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

FUSED_DW = re.compile(r"fused (\d+) 1x1 CONV_2Ds? into depthwise row bands")
FUSED_EXPAND = re.compile(r"fused (\d+) expand 1x1s? into depthwise row bands")
NAMES = ("s1_same_odd", "s2_same_odd", "s1_valid", "s2_valid_linear", "short_last_band", "one_row_bands",
         "mnv2_s2_144", "mnv2_576_residual", "mnv2_960_residual", "dw_seen", "x_s2_same_odd", "x_s2_same_even",
         "x_s2_valid", "x_short_last_band", "x_s2_halo_shrinks", "x_one_row_bands")
VARIANTS = {"pi4": ("auto", "scalar"), "pi5": ("auto", "dot")}


@pytest.fixture(scope="module")
def fusion_cases(model_dir) -> list[tuple[Case, int, int]]:
    """(case, depthwise->1x1 pairs, expands) fused"""
    cases = [(Case(f"dwp_{n}", model_dir, harness.convert("depthwise_project", **BLOCKS[n][0]), seed=300 + i),
              BLOCKS[n][1], int(bool(BLOCKS[n][0].get("expand")))) for i, n in enumerate(NAMES)]
    mnv2 = Case("mobilenet_v2_224", model_dir, _model_bytes("mobilenet_v2", MOBILENET_V2), seed=101)
    return [*cases, (mnv2, 17, 16)]


@pytest.mark.parametrize("board", list(CPUS))
def test_fused_blocks_identical_to_x86(emulated_pi, aarch64_delegate, fusion_cases, tmp_path: Path,  # noqa: F811
                                       board):
    runs = [(v, f) for v in VARIANTS[board] for f in ("dwconv", "all")]
    jobs = [c.job(tmp_path / f"{c.name}-{v}-{f}.npz",
                  {"path": str(aarch64_delegate), "options": {"log_level": "info", "kernels": v, "fuse": f}},
                  tag=f"-{v}-{f}")
            for v, f in runs for c, _, _ in fusion_cases]
    report = emulated_pi.run_batch(jobs, cpu=CPUS[board], runtime="tflite-runtime")
    problems = []
    for v, f in runs:
        for case, pairs, expands in fusion_cases:
            result = report["results"][f"{case.name}-{v}-{f}"]
            what = f"kernels={v}, fuse={f}, -cpu {CPUS[board]}"
            problem = identical_problem(case, result, tmp_path / f"{case.name}-{v}-{f}.npz", what)
            if problem is not None:
                problems.append(problem)
            if not result["ok"]:
                continue
            for line, want in ((FUSED_DW, pairs), (FUSED_EXPAND, expands if f == "all" else 0)):
                found = line.search(result["log"])
                if (int(found.group(1)) if found else 0) != want:
                    problems.append(f"{case.name} ({what}): {found.group(0) if found else 'none'} fused, want {want}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
