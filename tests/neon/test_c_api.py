"""The delegate's public C interface (delegates/neon/include/edgelift_neon.h), called through ctypes: the
defaults, creation with NULL options, and refusals that name the value (what an application linking the
library directly sees; the plugin entry point that load_delegate uses maps its strings onto the same struct)."""

from __future__ import annotations

import ctypes

import pytest

from edgelift.delegates import neon

SILENT, ERROR, WARNING, INFO, DEBUG = range(5)
AUTO, SCALAR, NEON, DOT = range(4)


class Options(ctypes.Structure):
    _fields_ = [("num_threads", ctypes.c_int), ("kernels", ctypes.c_int), ("log_level", ctypes.c_int),
                ("profile", ctypes.c_int)]


@pytest.fixture(scope="module")
def lib(neon_lib):
    so = ctypes.CDLL(neon_lib)
    so.EdgeliftNeonOptionsDefault.restype = Options
    so.EdgeliftNeonDelegateCreate.restype = ctypes.c_void_p
    so.EdgeliftNeonDelegateCreate.argtypes = [ctypes.POINTER(Options)]
    so.EdgeliftNeonDelegateDelete.argtypes = [ctypes.c_void_p]
    return so


def test_defaults(lib):
    o = lib.EdgeliftNeonOptionsDefault()
    assert (o.num_threads, o.kernels, o.log_level, o.profile) == (1, AUTO, INFO, 0)


def test_create_with_null_and_with_options(lib):
    d = lib.EdgeliftNeonDelegateCreate(None)
    assert d
    lib.EdgeliftNeonDelegateDelete(d)
    o = lib.EdgeliftNeonOptionsDefault()
    o.num_threads, o.kernels, o.log_level, o.profile = 3, SCALAR, SILENT, 1
    d = lib.EdgeliftNeonDelegateCreate(ctypes.byref(o))
    assert d
    lib.EdgeliftNeonDelegateDelete(d)
    lib.EdgeliftNeonDelegateDelete(None)


@pytest.mark.parametrize("field,value,message", [
    ("num_threads", 0, "num_threads=0 is not an integer from 1 to 64"),
    ("num_threads", 65, "num_threads=65 is not an integer from 1 to 64"),
    ("kernels", 7, "kernels=7 is not one of auto, scalar, neon, dot, avx2"),
    ("log_level", 9, "log_level=9 is not one of silent, error, warning, info, debug"),
    ("profile", 2, "profile=2 is not 0 or 1"),
])
def test_bad_options_are_refused_with_the_value(lib, capfd, field, value, message):
    o = lib.EdgeliftNeonOptionsDefault()
    setattr(o, field, value)
    assert not lib.EdgeliftNeonDelegateCreate(ctypes.byref(o))
    assert message in capfd.readouterr().err


def test_forced_kernels_the_cpu_lacks_are_refused(lib, capfd):
    if neon.host_arch() == "aarch64":
        pytest.skip("this CPU has NEON")
    o = lib.EdgeliftNeonOptionsDefault()
    o.kernels = DOT
    assert not lib.EdgeliftNeonDelegateCreate(ctypes.byref(o))
    assert "kernels=dot is not available on this CPU" in capfd.readouterr().err
