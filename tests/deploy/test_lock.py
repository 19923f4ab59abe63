"""The deploy lock over real SSH (loopback sshd; the "device" folder is here): a live holder's heartbeat keeps
its lock however old the lock is, a dead holder's lock is taken over once the heartbeat stops, and the dead
deploy's staging folder goes with it."""

from __future__ import annotations

import os
import time

import pytest

from edgelift.device.remote import device as dep
from edgelift.device.remote.lock import STALE_MIN, Heartbeat
from edgelift.device.remote.ssh import Connection

pytestmark = pytest.mark.ssh


def aged(path, minutes):
    t = time.time() - 60 * minutes
    os.utime(path, (t, t))


@pytest.fixture()
def device(tmp_path, ssh_config):
    remote = tmp_path / "device"
    (remote / ".lock").mkdir(parents=True)
    (remote / ".lock" / "owner").write_text("laptop pid 4242 since 2026-01-01 10:00:00Z\n")
    (remote / ".lock" / "heartbeat").touch()
    return remote, dep.make_device(Connection("pi", ssh_config=ssh_config), remote_dir=str(remote),
                                   remote_python="/usr/bin/python3")


def test_a_live_holder_keeps_its_lock_however_long_it_runs(device):
    remote, dev = device
    aged(remote / ".lock", 90)  # taken an hour and a half ago, heartbeat fresh: a slow upload, not a dead one
    state = dev.state(lock=True)
    assert state["lock"] == "busy" and state["owner"].startswith("laptop pid 4242")
    with pytest.raises(Exception, match="another deploy or rollback is in progress"):
        dev.check_lock(state)


def test_a_dead_holders_lock_and_staging_are_taken_over(device):
    remote, dev = device
    (remote / "staging" / "20260101T100000Z-0123456789ab").mkdir(parents=True)  # its half upload
    (remote / "staging" / "bench-0123456789ab-77").mkdir()  # a bench's scratch: not a deploy's, left alone
    aged(remote / ".lock" / "heartbeat", STALE_MIN + 1)
    state = dev.state(lock=True)
    assert state["lock"] == "taken"
    assert (remote / ".lock" / "owner").read_text().split()[1:3] == ["pid", str(os.getpid())]
    assert sorted(p.name for p in (remote / "staging").iterdir()) == ["bench-0123456789ab-77"]


def test_the_heartbeat_touches_the_lock_while_held(device):
    remote, dev = device
    hb = remote / ".lock" / "heartbeat"
    aged(hb, 10)
    with Heartbeat(dev.connection, dep._q(dev.path(".lock")), interval=0.3) as beat:
        deadline = time.time() + 30
        while beat.beats < 2 and time.time() < deadline:
            time.sleep(0.1)
    assert beat.beats >= 2 and time.time() - hb.stat().st_mtime < 30
    (remote / ".lock" / "heartbeat").unlink()
    (remote / ".lock" / "owner").unlink()
    (remote / ".lock").rmdir()
    with Heartbeat(dev.connection, dep._q(dev.path(".lock")), interval=0.2):
        time.sleep(0.7)
    assert not (remote / ".lock").exists()  # touch -c: a released lock is never recreated by a late beat
