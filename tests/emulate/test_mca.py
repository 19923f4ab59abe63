"""Cycle estimates per block: llvm-mca's schedule, cached, robust to what llvm-mca cannot model."""

from __future__ import annotations

import pytest

from edgelift.device.emulate import boards, mca, tools

RPI4, RPI5 = boards.board("rpi4"), boards.board("rpi5")


def word(hex_be: str) -> bytes:
    """An instruction as objdump prints it (0x8b010000) -> its little-endian bytes."""
    return int(hex_be, 16).to_bytes(4, "little")


ADD_X0 = word("91000400")      # add x0, x0, #1 (a dependency chain through x0)
ADD_X1 = word("91000421")      # add x1, x1, #1
ADD_X2 = word("91000442")      # add x2, x2, #1
BL = word("94000010")          # bl #64
B = word("14000010")           # b #64
LDADDAL = word("b8e00041")     # ldaddal w0, w1, [x2] (LSE: not in llvm 14's Cortex-A76 model)
PACIASP = word("d503233f")     # paciasp (printed back by llvm-mca as `hint #25`)
UNDEFINED = word("00000000")   # udf #0


def cost(meter_tools, board, tmp_path, *codes: bytes) -> dict[bytes, float]:
    cache = mca.CycleCache(tmp_path, board, tools.llvm_version(meter_tools.llvm_mca))
    got = mca.cost_blocks(list(codes), board, meter_tools.llvm_mc, meter_tools.llvm_mca, cache)
    return {c: got[mca.block_key(c)] for c in codes}


def test_a_dependency_chain_costs_its_latency_and_independent_adds_overlap(meter_tools, tmp_path):
    chain, spread = ADD_X0 * 3, ADD_X0 + ADD_X1 + ADD_X2
    got = cost(meter_tools, RPI4, tmp_path, chain, spread)
    assert got[chain] == pytest.approx(3.0, abs=0.1)  # three dependent 1-cycle adds: 3 cycles an iteration
    assert got[spread] < 2.0                          # two integer pipes on the A72: they overlap


def test_a_call_is_costed_like_a_branch(meter_tools, tmp_path):
    got = cost(meter_tools, RPI4, tmp_path, ADD_X0 + BL, ADD_X0 + B)
    assert got[ADD_X0 + BL] == pytest.approx(got[ADD_X0 + B]), "no invented 100-cycle call latency"


def test_instructions_llvm_mca_cannot_model_do_not_stop_the_estimate(meter_tools, tmp_path):
    blocks = (ADD_X0 + LDADDAL, PACIASP + ADD_X0, UNDEFINED + ADD_X0)
    for board in (RPI4, RPI5):
        got = cost(meter_tools, board, tmp_path / board.name, *blocks)
        assert all(v > 0 for v in got.values())


def test_results_are_cached_per_core(meter_tools, tmp_path):
    first = cost(meter_tools, RPI4, tmp_path, ADD_X0 * 5)
    cache = mca.CycleCache(tmp_path, RPI4, tools.llvm_version(meter_tools.llvm_mca))
    # a cached block needs no tool at all: broken paths prove nothing was run
    again = mca.cost_blocks([ADD_X0 * 5], RPI4, "/nonexistent/llvm-mc", "/nonexistent/llvm-mca", cache)
    assert again[mca.block_key(ADD_X0 * 5)] == first[ADD_X0 * 5]
    assert not mca.CycleCache(tmp_path, RPI5, tools.llvm_version(meter_tools.llvm_mca)).data
