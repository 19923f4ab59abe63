"""Bad input to the NEON delegate: clear errors, never a crash, never a wrong answer."""

from __future__ import annotations

import os

import numpy as np
import pytest

from edgelift.delegates import neon
from edgelift.errors import DelegateError, InvalidArgumentError
from tests import modelkit
from tests.neon import harness


def test_float_model_nothing_claimed_still_correct(neon_lib, capfd):
    model = modelkit.cached("float", modelkit.conv2d)
    harness._delegate.cache_clear()
    it = harness.interpreter(model, neon_lib, log_level="info")
    err = capfd.readouterr().err
    assert "edgelift-neon: 0 of 1 nodes delegated in 0 partitions; not delegated: CONV_2D x1" in err
    ref = harness.interpreter(model)
    x = harness.inputs_for(ref, 0)
    assert np.array_equal(harness.run(ref, x)[0], harness.run(it, x)[0])


def test_ops_left_behind_are_named(neon_lib, capfd):
    """UNIDIRECTIONAL_SEQUENCE_LSTM is builtin code 44: the partition line names it, never by number (this test
    used TRANSPOSE_CONV, code 67, until the delegate computed it)."""
    from tests import zoo

    model = zoo.tflite("lstm")
    harness._delegate.cache_clear()
    it = harness.interpreter(model, neon_lib, log_level="info")
    err = capfd.readouterr().err
    assert "; not delegated: UNIDIRECTIONAL_SEQUENCE_LSTM x1 (op not implemented by the NEON delegate)" in err, err
    assert "builtin 44" not in err
    ref = harness.interpreter(model)
    x = harness.inputs_for(ref, 0)
    assert np.array_equal(harness.run(ref, x)[0], harness.run(it, x)[0])


@pytest.mark.parametrize(
    "options,message",
    [
        ({"num_threads": "zero"}, "option num_threads=zero is not an integer from 1 to 64"),
        ({"num_threads": "0"}, "option num_threads=0 is not an integer from 1 to 64"),
        ({"kernels": "avx"}, "option kernels=avx is not one of auto, scalar, neon, dot, avx2"),
        ({"log_level": "loud"}, "option log_level=loud is not one of silent, error, warning, info, debug"),
        ({"colour": "red"}, "unknown option 'colour'; allowed: num_threads, kernels, log_level, profile, sparse, fuse"),
        ({"sparse": "yes"}, "option sparse=yes is not one of auto, off, always"),
        ({"fuse": "maybe"}, "option fuse=maybe is not one of off, add, dwconv, block, on, all"),
        ({"profile": "yes"}, "option profile=yes is not 0 or 1"),
        ({"kernels": "neon"}, "kernels=neon is not available on this CPU"),
        ({"kernels": "dot"}, "kernels=dot is not available on this CPU"),
    ],
)
def test_malformed_options_are_reported_by_the_runtime(neon_lib, options, message):
    """The message reaches the user through the runtime's error reporter (load_delegate's ValueError)."""
    from ai_edge_litert.interpreter import load_delegate

    if options.get("kernels") in ("neon", "dot") and neon.host_arch() == "aarch64":
        pytest.skip("this CPU has NEON: forcing the variant is valid here")
    with pytest.raises(ValueError) as info:
        load_delegate(neon_lib, options)
    assert message in str(info.value)


def test_scalar_kernels_can_be_forced(neon_lib):
    model = harness.convert("conv2d", -1, 1, shape=(9, 9, 3), filters=8)
    harness.assert_identical(model, neon_lib, kernels="scalar")


def test_avx2_kernels_run_where_cpuid_has_them_and_are_refused_elsewhere(neon_lib):
    """kernels=avx2 on this CPU: exact where CPUID reports (OS-enabled) AVX2, refused by name otherwise."""
    import ctypes

    from ai_edge_litert.interpreter import load_delegate

    lib = ctypes.CDLL(neon_lib)
    lib.edgelift_neon_cpu_features.restype = ctypes.c_uint
    lib.edgelift_neon_gemm_name.restype = ctypes.c_char_p
    if lib.edgelift_neon_cpu_features() & (1 << 3):  # EL_CPU_AVX2 (kernels/qs8_gemm.h)
        assert lib.edgelift_neon_gemm_name(b"avx2") == b"qs8_gemm_3x8c8__avx2"
        model = harness.convert("conv2d", -1, 1, shape=(9, 9, 3), filters=8)
        harness.assert_identical(model, neon_lib, kernels="avx2")
    else:
        with pytest.raises(ValueError, match="kernels=avx2 is not available on this CPU"):
            load_delegate(neon_lib, {"kernels": "avx2"})


def test_wrong_architecture_library(neon_lib_aarch64):
    """The aarch64 build on x86-64: dlopen says 'No such file or directory'; edgelift says what is wrong."""
    from ai_edge_litert.interpreter import load_delegate

    if neon.host_arch() != "x86_64":
        pytest.skip("the cross-built library is native here")
    assert neon.library_arch(neon_lib_aarch64) == "aarch64"
    with pytest.raises(OSError):  # the runtime's own, misleading error: a clear one is edgelift's job
        load_delegate(os.fspath(neon_lib_aarch64))
    with pytest.raises(DelegateError) as info:
        neon.check_library(neon_lib_aarch64)
    assert "was built for aarch64, but this machine is x86_64" in str(info.value)
    assert neon.check_library(neon_lib_aarch64, "aarch64") == neon_lib_aarch64


def test_wrong_architecture_library_through_the_cli(neon_lib_aarch64, tmp_path, capsys):
    """`--delegate PATH` to the aarch64 build on x86-64: exit code 3 and the architecture named, no traceback."""
    from edgelift.cli import main

    if neon.host_arch() != "x86_64":
        pytest.skip("the cross-built library is native here")
    model = tmp_path / "m.tflite"
    model.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    assert main(["bench", str(model), "--delegate", os.fspath(neon_lib_aarch64), "--runs", "2"]) == 3
    err = capsys.readouterr().err
    assert "failed to load" in err and "it was built for aarch64, but this machine is x86_64" in err
    assert "Traceback" not in err


def test_library_path_and_options_api(tmp_path):
    assert neon.library_arch(neon.library_path()) == neon.host_arch()
    assert neon.delegate_options(num_threads=4, kernels="scalar", log_level="debug") == {
        "num_threads": "4", "kernels": "scalar", "log_level": "debug"}
    with pytest.raises(InvalidArgumentError, match="num_threads must be an integer from 1 to 64, got 0"):
        neon.delegate_options(num_threads=0)
    with pytest.raises(InvalidArgumentError, match="kernels must be one of auto, scalar, neon, dot, avx2, got 'fast'"):
        neon.delegate_options(kernels="fast")
    assert neon.delegate_options(fuse="on")["fuse"] == "on" and "fuse" not in neon.delegate_options()
    with pytest.raises(InvalidArgumentError, match="fuse must be one of off, add, dwconv, block, on, all, got 'yes'"):
        neon.delegate_options(fuse="yes")
    with pytest.raises(InvalidArgumentError, match="unknown delegate architecture 'riscv64'"):
        neon.library_path("riscv64")
    junk = tmp_path / "libedgelift_neon.so"
    junk.write_bytes(b"not a library at all, just text")
    with pytest.raises(DelegateError, match="is not an ELF shared library"):
        neon.check_library(junk)
    with pytest.raises(DelegateError, match="does not exist"):
        neon.check_library(tmp_path / "missing.so")


def test_resize_to_an_impossible_shape_is_refused(neon_lib):
    """A resized input the delegated conv cannot take (smaller than its VALID filter): an error, no crash."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    model = harness.convert("conv2d", -1, 1, shape=(6, 6, 9), filters=3, kernel=2, padding="valid")
    it = Interpreter(model_content=model, experimental_delegates=[harness._delegate(neon_lib, "auto", "silent")],
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.resize_tensor_input(it.get_input_details()[0]["index"], [1, 1, 1, 9])
    with pytest.raises(RuntimeError, match="cannot take the new input shapes: input smaller than the filter"):
        it.allocate_tensors()


def test_float_io_model_is_delegated_whole_with_its_edges(neon_lib, capfd):
    """int8 inside, float32 at the edges: the QUANTIZE/DEQUANTIZE at the edges are claimed too, exactly."""
    model = modelkit.cached("int8-floatio", modelkit.small_resnet)
    harness._delegate.cache_clear()
    harness.interpreter(model, neon_lib, log_level="info")
    err = capfd.readouterr().err
    assert "edgelift-neon: 12 of 12 nodes delegated in 1 partitions" in err, err
    harness.assert_identical(model, neon_lib)


def test_conv_prelu_is_delegated_whole(neon_lib, capfd):
    """PRELU (builtin code 54), per-channel alpha after a conv: claimed, and identical."""
    model = modelkit.cached("int8", modelkit.conv_prelu)
    harness._delegate.cache_clear()
    harness.interpreter(model, neon_lib, log_level="info")
    assert "edgelift-neon: 2 of 2 nodes delegated in 1 partitions" in capfd.readouterr().err
    harness.assert_identical(model, neon_lib)
