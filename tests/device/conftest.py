"""Fixtures for the device layer: real conversions of tiny models (TF's converter, not ours) and the digits CNN."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits_files(digits_cnn, tmp_path_factory):
    """The trained digits CNN as int8 .tflite (int8 I/O), float .tflite, .keras, and its test split as .npz."""
    from tests import modelkit

    model, (x_train, _y_train, x_test, y_test) = digits_cnn
    d = tmp_path_factory.mktemp("digits")
    files = {
        "int8": d / "digits_int8.tflite",
        "float": d / "digits_float.tflite",
        "keras": d / "digits.keras",
        "data": d / "digits_test.npz",
    }
    files["int8"].write_bytes(modelkit.int8_tflite(model, data=x_train, samples=200))
    files["float"].write_bytes(modelkit.float_tflite(model))
    model.save(files["keras"])
    np.savez(files["data"], x=x_test, y=y_test)
    return files


@pytest.fixture(scope="session")
def conv_int8():
    from tests import modelkit

    return modelkit.cached("int8", modelkit.conv2d)


@pytest.fixture(scope="session")
def resnet_int8():
    from tests import modelkit

    return modelkit.cached("int8", modelkit.small_resnet)


@pytest.fixture(scope="session")
def softmax_int8():
    """int8 Dense + Softmax behind a RESHAPE built from SHAPE/STRIDED_SLICE/PACK: XNNPACK takes only part."""
    from tests import modelkit

    return modelkit.cached("int8", modelkit.reshape_softmax)


@pytest.fixture(scope="session")
def refusing_delegate(tmp_path_factory):
    """A real external delegate library (built with gcc) whose create function reports an error and refuses."""
    import shutil
    import subprocess

    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:  # gcc is in .ci/system-deps.sh; a bare machine may lack it
        pytest.skip("no C compiler to build the test delegate library")
    d = tmp_path_factory.mktemp("refusing_delegate")
    src = d / "refuse.c"
    src.write_text(
        "#include <stddef.h>\n"
        "void *tflite_plugin_create_delegate(char **keys, char **values, int n, void (*report)(const char *)) {\n"
        "  (void)keys; (void)values; (void)n;\n"
        "  if (report) report(\"refuse: this test delegate never loads\");\n"
        "  return NULL;\n"
        "}\n"
        "void tflite_plugin_destroy_delegate(void *d) { (void)d; }\n"
    )
    lib = d / "librefuse.so"
    subprocess.run([cc, "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-o", str(lib), str(src)], check=True)
    return lib
