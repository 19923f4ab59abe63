"""`--install-runtime`: give the device's Python numpy and a TFLite runtime, only when it lacks them."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import ModelNotFoundError
from .device import Device, _q, remote_path
from .ssh import SSHError

RUNTIME_PINS = ("tflite-runtime==2.14.0", "numpy==1.26.4")


def has_runtime(device: Device, *, current: str | None = None) -> bool:
    """Whether the device's Python (as python_setup picks it) imports numpy and a TFLite runtime."""
    probe = ("\"$PY\" -c 'import numpy\ntry:\n import tflite_runtime.interpreter\nexcept ImportError:\n"
             " import ai_edge_litert.interpreter' 2>/dev/null && echo have-runtime\ntrue\n")
    return "have-runtime" in device.shell("install-runtime", device.python_setup() + probe, current=current)


def ensure_runtime(device: Device, *, wheels: str | os.PathLike | None = None, current: str | None = None) -> str:
    """Make sure the device's Python has numpy and a TFLite runtime (only called when the user asked for it).

    If the chosen Python (--remote-python, else ``<remote_dir>/venv/bin/python``, else python3) already has
    them, nothing changes. Otherwise ``<remote_dir>/venv`` is created from it and tflite-runtime + numpy are
    installed there: from `wheels` (a local folder of aarch64 wheels, uploaded; pip ``--no-index``) or from
    PyPI on the device. Returns the Python path (on the device) that deploy then uses.
    """
    if has_runtime(device, current=current):
        return device.remote_python or "(default)"
    base_python = device.remote_python or "python3"
    venv = device.path("venv")
    vpy = device.path("venv", "bin", "python")
    pip = [vpy, "-m", "pip", "install", "-q", *RUNTIME_PINS]
    if wheels is not None:
        wheels = Path(wheels)
        if not wheels.is_dir():
            raise ModelNotFoundError(f"wheels folder {str(wheels)!r} does not exist",
                                     hint="give a folder of aarch64 wheels (pip download --platform ...)")
        remote_wheels = device.path("wheels")
        device.shell("install-runtime", f"rm -rf -- {_q(remote_wheels)}", current=current)
        try:
            device.connection.upload_tree(wheels, remote_wheels, timeout=600)
        except SSHError as exc:
            raise device.failure("install-runtime", str(exc), current=current) from None
        pip += ["--no-index", "--find-links", remote_wheels]
    script = (f"{_q(remote_path(base_python))} -m venv {_q(venv)} || exit 90\n"
              + " ".join(_q(a) for a in pip) + "\n")
    try:
        device.connection.run(script, timeout=1800)
    except SSHError as exc:
        if exc.returncode == 90:
            raise device.failure("install-runtime", f"`{base_python} -m venv` failed on the device: "
                                 + (exc.stderr.strip().splitlines() or ["no message"])[-1], current=current,
                                 hint="install the venv module (Raspberry Pi OS / Debian: sudo apt install "
                                 "python3-venv), then deploy again with --install-runtime") from None
        raise device.failure("install-runtime", f"pip could not install {' '.join(RUNTIME_PINS)}: {exc}",
                             current=current, hint="check the device reaches PyPI, or give --wheels DIR with "
                             "aarch64 wheels (pip download --only-binary=:all: --platform "
                             "manylinux2014_aarch64 --python-version 3.11 tflite-runtime==2.14.0 "
                             "numpy==1.26.4 -d DIR)") from None
    device.remote_python = vpy
    return vpy
