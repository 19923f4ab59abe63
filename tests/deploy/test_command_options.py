"""`RunOptions`, `BundleOptions` and `check_remote_dirs`: the settings of run, bundle, rollback and device info,
each value good or refused with one line naming it, before any model is read or device reached."""

from __future__ import annotations

import math

import pytest

import edgelift
from edgelift.device.remote.bundle_options import BundleOptions
from edgelift.device.remote.command_options import RunOptions
from edgelift.device.remote.device import check_remote_dirs, make_device
from edgelift.device.remote.ssh import connection_for
from edgelift.errors import EdgeliftError, ModelNotFoundError, OutputError


def test_run_options_good_values(tmp_path):
    assert RunOptions().threads == 1 and RunOptions().delegate is None
    o = RunOptions(delegate="builtin", threads=4, input=tmp_path / "x.npy", output=tmp_path / "y.npz")
    assert (o.delegate, o.threads, o.output) == ("builtin", 4, str(tmp_path / "y.npz"))


@pytest.mark.parametrize("kwargs, named", [
    ({"delegate": "gpu"}, "delegate 'gpu' is not one of none, 'neon', 'builtin', 'xnnpack'"),
    ({"threads": 0}, "threads must be a whole number >= 1, got 0"),
    ({"threads": True}, "threads must be a whole number >= 1, got True"),
    ({"threads": 2.5}, "threads must be a whole number >= 1, got 2.5"),
    ({"threads": 65}, "threads must be at most 64, got 65"),
    ({"output": 7}, "output must be a file path, got 7"),
])
def test_run_options_refuse(kwargs, named):
    with pytest.raises(EdgeliftError) as info:
        RunOptions(**kwargs)
    assert named in str(info.value)


def test_run_output_is_never_the_input_and_its_folder_must_exist(tmp_path):
    (tmp_path / "x.npy").write_bytes(b"x")
    with pytest.raises(OutputError, match="is the input itself"):
        RunOptions(input=tmp_path / "x.npy", output=tmp_path / "x.npy")
    with pytest.raises(OutputError, match="does not exist"):
        RunOptions(output=tmp_path / "no" / "y.npy")


def test_bundle_options_good_values(tmp_path):
    o = BundleOptions(target="rpi5", num_threads=4, kernels="dot", seed=3, device_delegate="neon",
                      self_check_atol=0.01)
    assert (o.target, o.num_threads, o.kernels, o.seed, o.self_check_atol) == ("rpi5", 4, "dot", 3, 0.01)


@pytest.mark.parametrize("kwargs, named", [
    ({"target": "rpi9"}, "target 'rpi9' is not one of"),
    ({"num_threads": 0}, "threads must be a whole number >= 1, got 0"),
    ({"num_threads": 100}, "threads must be at most 64, got 100"),
    ({"kernels": "sve"}, "kernels 'sve' is not one of 'auto', 'scalar', 'neon', 'dot'"),
    ({"seed": -1}, "seed must be a whole number >= 0, got -1"),
    ({"overwrite": "yes"}, "overwrite must be true or false, got 'yes'"),
    ({"device_delegate": "gpu"}, "device_delegate 'gpu' is not one of"),
    ({"self_check_atol": math.nan}, "nan"),
    ({"sign": "no_such_key"}, "signing key 'no_such_key' does not exist"),
])
def test_bundle_options_refuse(kwargs, named):
    with pytest.raises(EdgeliftError) as info:
        BundleOptions(**kwargs)
    assert named in str(info.value) and "\n" not in str(info.value)


def test_bundle_checks_its_options_before_reading_the_model(tmp_path):
    # the model does not exist: a bad option is named first, so nothing about the model was looked at
    with pytest.raises(EdgeliftError, match="kernels 'sve' is not one of"):
        edgelift.bundle(tmp_path / "missing.tflite", kernels="sve", output=tmp_path / "b")
    with pytest.raises(ModelNotFoundError):
        edgelift.bundle(tmp_path / "missing.tflite", output=tmp_path / "b")
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("remote_dir, remote_python, named", [
    ("", None, "the remote directory is empty"),
    ("~bob/x", None, "remote path '~bob/x': ~user paths are not supported"),
    (3, None, "remote_dir must be a path on the device, got 3"),
    ("~/edgelift", 3.0, "remote_python must be a path on the device, got 3.0"),
])
def test_remote_dirs_refused_by_every_device_command(remote_dir, remote_python, named):
    with pytest.raises(EdgeliftError) as info:
        check_remote_dirs(remote_dir, remote_python)
    assert named in str(info.value)
    with pytest.raises(EdgeliftError) as via_device:  # what rollback, device info, run and Ansible build
        make_device(connection_for("127.0.0.1:9"), remote_dir=remote_dir, remote_python=remote_python)
    assert str(via_device.value) == str(info.value)
    with pytest.raises(EdgeliftError) as via_api:
        edgelift.rollback("127.0.0.1:9", remote_dir=remote_dir, remote_python=remote_python)
    assert str(via_api.value) == str(info.value)


def test_remote_dirs_good_values():
    check_remote_dirs("~/edgelift", None)
    check_remote_dirs("/opt/edgelift", "/usr/bin/python3")


def test_run_remote_takes_options_or_keywords_not_both():
    from edgelift.device.remote.api import run_remote

    with pytest.raises(EdgeliftError, match="not both"):
        run_remote("127.0.0.1:9", "x.npy", threads=2, options=RunOptions())
    with pytest.raises(EdgeliftError, match="threads must be a whole number >= 1, got 0"):
        run_remote("127.0.0.1:9", "x.npy", threads=0)
