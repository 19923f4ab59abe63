"""Delegate loading: names, missing and broken libraries, a library's own refusal, the NEON delegate and its
options (real LiteRT, real load_delegate)."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from edgelift.device.runtime import load_interpreter, neon_library_path
from edgelift.errors import DelegateError
from tests.artefacts import missing


def test_unknown_delegate_lists_the_known_ones(conv_int8):
    with pytest.raises(DelegateError, match="unknown delegate 'xnnpak'; known: builtin, xnnpack, neon") as e:
        load_interpreter(conv_int8, "xnnpak")
    assert "did you mean 'xnnpack'" in str(e.value)


def test_missing_and_broken_delegate_libraries(conv_int8, tmp_path):
    with pytest.raises(DelegateError, match="does not exist"):
        load_interpreter(conv_int8, str(tmp_path / "libnothere.so"))
    fake = tmp_path / "libfake.so"
    fake.write_text("not an ELF file\n" * 20)
    with pytest.raises(DelegateError, match="failed to load .*it is not an ELF shared library"):
        load_interpreter(conv_int8, str(fake))
    not_a_delegate = np._core._multiarray_umath.__file__  # a real shared library without the entry points
    with pytest.raises(DelegateError, match="does not export tflite_plugin_create_delegate"):
        load_interpreter(conv_int8, not_a_delegate)


def test_refusing_delegate_passes_on_the_runtimes_message(conv_int8, refusing_delegate):
    with pytest.raises(DelegateError) as e:
        load_interpreter(conv_int8, str(refusing_delegate), delegate_options={"mode": "x"})
    msg = str(e.value)
    assert "refuse: this test delegate never loads" in msg  # the library's own report, via the runtime
    assert "Failed to load delegate" in msg  # LiteRT's wording


def _neon_or_skip() -> str:
    try:
        path = neon_library_path()
    except DelegateError as exc:
        missing(f"the NEON delegate library ({exc})", "`make native` builds it")
    lib = ctypes.CDLL(path)
    if not hasattr(lib, "tflite_plugin_create_delegate"):
        missing(f"tflite_plugin_create_delegate in {path}", "rebuild with `make native`")
    return path


def test_neon_delegate_is_exact_with_builtin(conv_int8):
    _neon_or_skip()
    neon = load_interpreter(conv_int8, "neon")
    ref = load_interpreter(conv_int8, "builtin")
    assert neon.partition_info.total_nodes == ref.partition_info.total_nodes
    assert "nodes delegated in" in neon.partition
    x = ref.random_inputs(seed=3, batch=4)
    np.testing.assert_array_equal(neon.predict_raw(x)[0], ref.predict_raw(x)[0])


def test_neon_options_reach_the_delegate(conv_int8):
    _neon_or_skip()
    scalar = load_interpreter(conv_int8, "neon", delegate_options={"kernels": "scalar"})
    ref = load_interpreter(conv_int8, "builtin")
    x = ref.random_inputs(seed=5, batch=2)
    np.testing.assert_array_equal(scalar.predict_raw(x)[0], ref.predict_raw(x)[0])
    with pytest.raises(DelegateError, match="colour") as e:  # the delegate's own refusal, passed on
        load_interpreter(conv_int8, "neon", delegate_options={"colour": "red"})
    assert "Failed to load delegate" in str(e.value)
