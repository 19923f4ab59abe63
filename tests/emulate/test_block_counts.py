"""The block-counting plugin under qemu-aarch64: exact, deterministic counts, attributed only to marked regions."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from edgelift.device.emulate import counts, guest

pytestmark = pytest.mark.qemu
OUTER, INNER, EMPTY = 0x01000005, 0x02000007, 0x01000006
REPO = Path(__file__).resolve().parents[2]


def run(meter_tools, guest_binary, tmp_path, *args: str) -> counts.Counts:
    out = tmp_path / ("counts-" + "-".join(args) + ".txt")
    subprocess.run([meter_tools.qemu, "-cpu", "cortex-a72", "-plugin", f"{meter_tools.plugin},out={out}",
                    str(guest_binary), *args], check=True, timeout=120)
    return counts.read_counts(out)


def totals(c: counts.Counts) -> dict[tuple[int, int], int]:
    return {r: c.instructions(*r) for r in sorted(c.regions())}


def test_a_two_instruction_loop_costs_two_instructions_per_iteration(meter_tools, marked_loop, tmp_path):
    small, large = (run(meter_tools, marked_loop, tmp_path, "0", str(n)) for n in (1000, 4000))
    for region in ((OUTER, INNER), (OUTER, OUTER)):
        assert large.instructions(*region) - small.instructions(*region) == 2 * 3000, region
    assert large.instructions(OUTER) - small.instructions(OUTER) == 2 * 2 * 3000


def test_code_outside_the_regions_is_not_counted(meter_tools, marked_loop, tmp_path):
    quiet = run(meter_tools, marked_loop, tmp_path, "0", "1000")
    busy = run(meter_tools, marked_loop, tmp_path, "500000", "1000")  # a million instructions before the regions
    assert totals(busy) == totals(quiet)
    assert set(quiet.regions()) == {(OUTER, INNER), (OUTER, OUTER), (EMPTY, EMPTY)}


def test_counts_are_identical_run_to_run(meter_tools, marked_loop, tmp_path):
    first, second = (run(meter_tools, marked_loop, tmp_path / str(i), "10", "777")
                     for i in range(2) if not (tmp_path / str(i)).mkdir())
    assert totals(first) == totals(second)
    assert sorted((b.vaddr, b.code, sorted(b.executions.items())) for b in first.blocks) == \
        sorted((b.vaddr, b.code, sorted(b.executions.items())) for b in second.blocks)


def test_an_empty_region_prices_the_markers_alone(meter_tools, marked_loop, tmp_path):
    c = run(meter_tools, marked_loop, tmp_path, "0", "5")
    cost = c.instructions(EMPTY)
    assert 0 < cost < 64, "an empty region holds only the end of one marker call and the start of the next"
    assert c.markers == 6 and c.unbalanced == 0


def test_a_region_left_open_is_reported(meter_tools, marked_loop, tmp_path):
    c = run(meter_tools, marked_loop, tmp_path, "0", "5", "unbalanced")
    assert c.unbalanced == 1


def test_the_plugin_refuses_to_run_without_an_output_file(meter_tools, marked_loop):
    proc = subprocess.run([meter_tools.qemu, "-plugin", str(meter_tools.plugin), str(marked_loop)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "missing argument out=FILE" in proc.stderr


def test_marker_numbers_agree_between_delegate_plugin_guest_and_reader():
    def defines(path: Path) -> dict[str, int]:
        return {m[1]: int(m[2], 0) for m in re.finditer(r"#define (EL_MARK_\w+) (0x[0-9a-fA-F]+|\d+)u?",
                                                        path.read_text())}

    header = defines(REPO / "delegates/neon/src/profile_marker.h")
    plugin = defines(REPO / "device/emulate/plugin/count_blocks.c")
    for name in ("EL_MARK_WHENCE", "EL_MARK_BEGIN", "EL_MARK_END"):
        assert header[name] == plugin[name], name
    assert (guest.MARK_WHENCE, guest.MARK_BEGIN, guest.MARK_END) == (
        header["EL_MARK_WHENCE"], header["EL_MARK_BEGIN"], header["EL_MARK_END"])
    assert counts.CLASS_NODE == header["EL_MARK_CLASS_NODE"]
    assert (counts.REGION_INFERENCE, counts.REGION_EMPTY) == (guest.REGION_INFERENCE, guest.REGION_EMPTY)
