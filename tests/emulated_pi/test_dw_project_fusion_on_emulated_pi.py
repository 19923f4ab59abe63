"""Depthwise -> project 1x1 fused per row band (fuse=dwconv / on) in the cross-built delegate on the emulated Pi 4
and Pi 5: the one-block models of tests/neon/test_dw_project_fusion.py (strides 1 and 2, SAME / VALID, a short last
band, one-row bands, MobileNetV2's block shapes with the residual ADD) and the full MobileNetV2 224 give outputs
identical to x86-64 LiteRT 2.3's builtin kernels with every kernel variant the board has, and the partition log
names as many fused pairs as on x86."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.emulated_pi.conftest import MOBILENET_V2, Case, _model_bytes, assert_identical
from tests.emulated_pi.pi import CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import aarch64_delegate  # noqa: F401  (fixture)
from tests.neon import harness
from tests.neon.test_dw_project_fusion import BLOCKS

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

FUSED_DW = re.compile(r"fused (\d+) 1x1 CONV_2Ds? into depthwise row bands")
NAMES = ("s1_same_odd", "s2_same_odd", "s1_valid", "s2_valid_linear", "short_last_band", "one_row_bands",
         "mnv2_s2_144", "mnv2_576_residual", "mnv2_960_residual", "dw_seen")
VARIANTS = {"pi4": ("auto", "scalar"), "pi5": ("auto", "dot")}


@pytest.fixture(scope="module")
def fusion_cases(model_dir) -> list[tuple[Case, int]]:
    cases = [(Case(f"dwp_{n}", model_dir, harness.convert("depthwise_project", **BLOCKS[n][0]), seed=300 + i),
              BLOCKS[n][1]) for i, n in enumerate(NAMES)]
    return [*cases, (Case("mobilenet_v2_224", model_dir, _model_bytes("mobilenet_v2", MOBILENET_V2), seed=101), 17)]


@pytest.mark.parametrize("board", list(CPUS))
def test_fused_blocks_identical_to_x86(emulated_pi, aarch64_delegate, fusion_cases, tmp_path: Path,  # noqa: F811
                                       board):
    runs = [(v, f) for v in VARIANTS[board] for f in ("dwconv", "on")]
    jobs = [c.job(tmp_path / f"{c.name}-{v}-{f}.npz",
                  {"path": str(aarch64_delegate), "options": {"log_level": "info", "kernels": v, "fuse": f}},
                  tag=f"-{v}-{f}")
            for v, f in runs for c, _ in fusion_cases]
    report = emulated_pi.run_batch(jobs, cpu=CPUS[board], runtime="tflite-runtime")
    problems = []
    for v, f in runs:
        for case, pairs in fusion_cases:
            result = report["results"][f"{case.name}-{v}-{f}"]
            what = f"kernels={v}, fuse={f}, -cpu {CPUS[board]}"
            if not result["ok"]:
                problems.append(f"{case.name} ({what}): {result.get('error')} {result.get('log', '')[-400:]}")
                continue
            try:
                assert_identical(case, tmp_path / f"{case.name}-{v}-{f}.npz", what)
            except AssertionError as exc:
                problems.append(str(exc))
            found = FUSED_DW.search(result["log"])
            if (int(found.group(1)) if found else 0) != pairs:
                problems.append(f"{case.name} ({what}): {found.group(0) if found else 'no pair'} fused, want {pairs}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
