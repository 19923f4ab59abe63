"""Naming guest addresses from /proc/self/maps and the libraries' ELF symbols."""

from __future__ import annotations

import subprocess

from edgelift.device.emulate.symbols import Symbolizer, parse_maps


def _symbol(meter_tools, path, name) -> tuple[int, int]:
    out = subprocess.run([meter_tools.llvm_nm, "--defined-only", "-S", str(path)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == name:
            return int(parts[0], 16), int(parts[1], 16)
    raise AssertionError(f"{name} not in {path}")


def test_an_address_in_a_function_is_named_and_one_past_it_is_not(meter_tools, marked_loop):
    start, size = _symbol(meter_tools, marked_loop, "main")  # a static executable: absolute addresses
    maps = (f"400000-600000 r-xp 00000000 fe:00 12 {marked_loop}\n"
            "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 [stack]\n")
    sym = Symbolizer(maps, meter_tools.llvm_nm)
    assert sym.name(start) == ("marked_loop", "main")
    assert sym.name(start + size - 4) == ("marked_loop", "main")
    assert sym.name(start + size)[1] != "main"
    assert sym.name(0x7F0000000010) == ("[anonymous]", "?")
    assert sym.name(0x10) == ("[anonymous]", "?")


def test_a_shared_library_is_named_relative_to_where_it_was_loaded(meter_tools):
    from edgelift.delegates import neon

    lib = neon.library_path("aarch64")
    start, _ = _symbol(meter_tools, lib, "tflite_plugin_create_delegate")
    base = 0x5500000000
    sym = Symbolizer(f"{base:x}-{base + 0x100000:x} r-xp 00000000 fe:00 7 {lib}\n", meter_tools.llvm_nm)
    assert sym.name(base + start + 8) == ("libedgelift_neon.so", "tflite_plugin_create_delegate")


def test_maps_keep_only_file_mappings_sorted():
    text = ("2000-3000 r-xp 00001000 fe:00 1 /lib/b.so\n1000-2000 r--p 00000000 fe:00 1 /lib/b.so\n"
            "4000-5000 rw-p 00000000 00:00 0\n")
    maps = parse_maps(text)
    assert [(m.start, m.path) for m in maps] == [(0x1000, "/lib/b.so"), (0x2000, "/lib/b.so")]
    sym = Symbolizer(text, "llvm-nm")
    assert sym.library(0x2010) == ("/lib/b.so", 0x1010)  # relative to the first mapping's base
