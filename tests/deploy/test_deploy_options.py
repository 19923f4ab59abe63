"""DeployOptions refuses every bad value once, with one line, from the Python API and the CLI alike, before
anything is bundled or any device is reached (127.0.0.1:9 has nothing listening: reaching it fails otherwise)."""

from __future__ import annotations

import dataclasses
import math

import pytest

import edgelift
from edgelift.device.remote.deploy_options import DeployOptions
from edgelift.device.remote.ssh import Connection
from edgelift.errors import InvalidArgumentError, ModelNotFoundError
from tests.sdk.bad_input import assert_refused, snapshot, work  # noqa: F401 (the fixture)

H = "127.0.0.1:9"
BAD = [
    ({}, "give exactly one of --host and --hosts"),
    ({"host": H, "hosts": "hosts.txt"}, "give exactly one of --host and --hosts"),
    ({"host": 22}, "host must be '[user@]host[:port]' or a Connection, got 22"),
    ({"hosts": ""}, "hosts must be the path of a hosts file or inventory, got ''"),
    ({"host": H, "group": "kiosks"}, "group 'kiosks' picks hosts from an inventory; no --hosts given"),
    ({"hosts": "hosts.txt", "group": " "}, "group must be an inventory group name, got ' '"),
    ({"host": H, "target": "rpi3"}, "target 'rpi3' is not one of"),
    ({"host": H, "remote_dir": ""}, "the remote directory is empty"),
    ({"host": H, "remote_dir": "~bob/x"}, "remote path '~bob/x': ~user paths are not supported"),
    ({"host": H, "remote_dir": None}, "remote_dir must be a path on the device, got None"),
    ({"host": H, "remote_python": 3}, "remote_python must be a path on the device, got 3"),
    ({"host": H, "install_runtime": "yes"}, "install_runtime must be true or false, got 'yes'"),
    ({"host": H, "install_runtime": True, "wheels": "nowheels"}, "wheels folder 'nowheels' does not exist"),
    ({"host": H, "wheels": "adir"}, "--wheels is read only with --install-runtime"),
    ({"hosts": "hosts.txt", "concurrency": 0}, "--concurrency must be a whole number >= 1, got 0"),
    ({"hosts": "hosts.txt", "concurrency": math.inf}, "--concurrency must be a whole number >= 1, got inf"),
    ({"host": H, "keep": 0}, "keep must be a whole number >= 1, got 0"),
    ({"host": H, "keep": 2.0}, "keep must be a whole number >= 1, got 2.0"),
    ({"host": H, "self_check_atol": math.nan}, "--self-check-atol must be a finite number >= 0, got nan"),
    ({"host": H, "self_check_atol": math.inf}, "--self-check-atol must be a finite number >= 0, got inf"),
    ({"host": H, "self_check_atol": -1}, "--self-check-atol must be a finite number >= 0, got -1"),
]


def _ids(cases):
    return [", ".join(f"{k}={v!r}" for k, v in c.items()) or "nothing" for c, _ in cases]


@pytest.mark.parametrize("settings, words", BAD, ids=_ids(BAD))
def test_each_bad_value_is_refused_before_any_work(work, settings, words):  # noqa: F811
    with pytest.raises((InvalidArgumentError, ModelNotFoundError)) as info:
        DeployOptions(**settings)
    assert words in str(info.value) and "\n" not in str(info.value)
    before = snapshot(work)
    host = settings.pop("host", None)
    with pytest.raises((InvalidArgumentError, ModelNotFoundError)) as info:
        edgelift.deploy("m.tflite", host, **settings)  # nothing bundled, nothing reached
    assert words in str(info.value)
    assert snapshot(work) == before


def test_good_values_are_kept_and_frozen(work):  # noqa: F811
    o = DeployOptions(host=Connection(H), target="rpi5", install_runtime=True, wheels="adir", keep=2,
                      self_check_atol=0)
    assert (o.target, o.keep, o.self_check_atol, o.concurrency) == ("rpi5", 2, 0.0, 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.keep = 0


def test_options_or_keywords_not_both(work):  # noqa: F811
    with pytest.raises(InvalidArgumentError, match=r"give options or host/keywords, not both \(keywords \['keep'\]\)"):
        edgelift.deploy("m.tflite", options=DeployOptions(host=H), keep=2)
    with pytest.raises(InvalidArgumentError, match="options must be a DeployOptions, got dict"):
        edgelift.deploy("m.tflite", options={"host": H})


D = ["deploy", "m.tflite", "--host", H]
CLI_CASES = [
    ([*D, "--target", "rpi3"], "Invalid value for '--target'"),
    ([*D, "--remote-dir", ""], "the remote directory is empty"),
    ([*D, "--remote-dir", "~bob"], "remote path '~bob': ~user paths are not supported"),
    ([*D, "--group", "kiosks"], "group 'kiosks' picks hosts from an inventory; no --hosts given"),
    ([*D, "--wheels", "adir"], "--wheels is read only with --install-runtime"),
    ([*D, "--install-runtime", "--wheels", "nowheels"], "wheels folder 'nowheels' does not exist"),
    ([*D, "--self-check-atol", "nan"], "--self-check-atol must be a finite number >= 0, got nan"),
    (["deploy", "m.tflite", "--hosts", "notes.txt", "--concurrency", "0"],
     "--concurrency must be a whole number >= 1, got 0"),
]


@pytest.mark.parametrize("argv, named", CLI_CASES, ids=[" ".join(c[0][4:]) for c in CLI_CASES])
def test_the_cli_refuses(work, capsys, argv, named):  # noqa: F811
    assert_refused(work, capsys, argv, 2, named)
