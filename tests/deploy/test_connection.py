"""Connection: the ssh settings checked once when made, the argv they give, and the API boundary (no sshd)."""

from __future__ import annotations

import os

import pytest

import edgelift
from edgelift.device.remote.device import make_device
from edgelift.device.remote.ssh import SSH_CONFIG_ENV, Connection, Target, connection_for
from edgelift.errors import InvalidArgumentError, ModelNotFoundError


def test_a_host_string_is_parsed_and_bad_ones_are_refused():
    conn = Connection("pi@[::1]:2222")
    assert conn.target == Target("::1", user="pi", port=2222)
    with pytest.raises(InvalidArgumentError, match=r"cannot read the host 'pi@\$\(reboot\)'"):
        Connection("pi@$(reboot)")
    with pytest.raises(InvalidArgumentError, match="port 99999 in host 'pi:99999' is outside 1..65535"):
        Connection("pi:99999")
    with pytest.raises(InvalidArgumentError, match="cannot read the host 42"):
        Connection(42)  # type: ignore[arg-type]


def test_config_and_key_files_are_checked_once_at_construction(tmp_path, monkeypatch):
    monkeypatch.delenv(SSH_CONFIG_ENV, raising=False)
    missing = tmp_path / "nope"
    with pytest.raises(ModelNotFoundError, match=f"ssh config file '{missing}' does not exist"):
        Connection("pi", ssh_config=missing)
    with pytest.raises(ModelNotFoundError, match=f"ssh identity file '{missing}' does not exist"):
        Connection("pi", identity=missing)
    with pytest.raises(ModelNotFoundError, match="ssh config file .* does not exist"):
        Connection("pi", ssh_config=tmp_path)  # a folder is not a config file
    locked = tmp_path / "key"
    locked.write_text("x")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads any file: the check cannot be seen here
        pytest.skip("running as root: an unreadable file is readable")
    with pytest.raises(ModelNotFoundError, match=f"ssh identity file '{locked}' is not readable"):
        Connection("pi", identity=locked)


def test_the_environment_names_the_config_and_it_is_checked_too(tmp_path, monkeypatch):
    monkeypatch.setenv(SSH_CONFIG_ENV, str(tmp_path / "gone"))
    with pytest.raises(ModelNotFoundError, match="ssh config file .*gone' does not exist"):
        Connection("pi")
    config = tmp_path / "config"
    config.write_text("Host pi\n")
    monkeypatch.setenv(SSH_CONFIG_ENV, str(config))
    assert Connection("pi").ssh_config == str(config)


@pytest.mark.parametrize("timeout", [0, -1, 1.5, True, "15"])
def test_the_connect_timeout_is_a_positive_whole_number(timeout):
    with pytest.raises(InvalidArgumentError, match="connect timeout .* is not a positive whole number"):
        Connection("pi", connect_timeout=timeout)


def test_argv_carries_every_setting_and_ends_options_before_the_host(tmp_path, monkeypatch):
    monkeypatch.delenv(SSH_CONFIG_ENV, raising=False)
    config, key = tmp_path / "config", tmp_path / "id"
    config.write_text("")
    key.write_text("")
    argv = Connection("me@box:2200", ssh_config=config, identity=key, accept_new_host_key=True,
                      connect_timeout=7).base_argv()
    assert argv[:5] == ["ssh", "-F", str(config), "-i", str(key)]
    assert "StrictHostKeyChecking=accept-new" in argv and "ConnectTimeout=7" in argv and "BatchMode=yes" in argv
    assert argv[-6:] == ["-p", "2200", "-l", "me", "--", "box"]
    assert "StrictHostKeyChecking=yes" in Connection("box").base_argv()


def test_a_fleet_shares_settings_across_targets(tmp_path, monkeypatch):
    monkeypatch.delenv(SSH_CONFIG_ENV, raising=False)
    key = tmp_path / "id"
    key.write_text("")
    canary = Connection("pi1", identity=key, accept_new_host_key=True)
    other = canary.to(Target.parse("pi@pi2:23"))
    assert other.target == Target("pi2", user="pi", port=23)
    assert (other.identity, other.accept_new_host_key) == (key, True) and canary.target == Target("pi1")


def test_the_api_boundary_takes_a_host_string_or_a_connection_never_both_settings(tmp_path, monkeypatch):
    monkeypatch.delenv(SSH_CONFIG_ENV, raising=False)
    conn = Connection("pi")
    assert connection_for(conn) is conn
    assert connection_for("pi", accept_new_host_key=True) == Connection("pi", accept_new_host_key=True)
    with pytest.raises(InvalidArgumentError, match="accept_new_host_key given next to a Connection"):
        connection_for(conn, accept_new_host_key=True)
    # the public functions: a conflict is refused before anything is read or reached
    with pytest.raises(InvalidArgumentError, match="identity given next to a Connection"):
        edgelift.rollback(conn, identity=tmp_path / "id")
    assert edgelift.Connection is Connection


def test_make_device_takes_a_connection_only():
    device = make_device(Connection("pi@raspberrypi.local"), remote_dir="~/e")
    assert str(device.target) == "pi@raspberrypi.local" and device.base == "e"
    with pytest.raises(TypeError, match="make_device takes a Connection"):
        make_device("pi")  # type: ignore[arg-type]
