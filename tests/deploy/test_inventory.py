"""Hosts files (plain and Ansible INI), host specs and remote quoting: no SSH needed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edgelift.device.remote.device import remote_path
from edgelift.device.remote.fleet import read_hosts
from edgelift.device.remote.ssh import Target, quote
from edgelift.errors import InvalidArgumentError, ModelNotFoundError


@pytest.mark.parametrize("spec, host, user, port", [
    ("raspberrypi.local", "raspberrypi.local", None, None),
    ("pi@192.168.1.20", "192.168.1.20", "pi", None),
    ("pi@192.168.1.20:2222", "192.168.1.20", "pi", 2222),
    ("kitchen-pi", "kitchen-pi", None, None),
    ("root@[::1]:22", "::1", "root", 22),
    ("[::1]", "::1", None, None),
])
def test_target_parse(spec, host, user, port):
    t = Target.parse(spec)
    assert (t.host, t.user, t.port) == (host, user, port)
    assert Target.parse(str(t)) == t  # messages and hints print str(target): it must read back (IPv6 bracketed)


@pytest.mark.parametrize("spec", ["", "pi@", "-oProxyCommand=touch x", "a b", "pi@host:99999", "host;rm -rf ~",
                                  "$(touch x)@pi", "`id`@pi", "-l@pi", "pi user@host"])
def test_target_parse_refuses(spec):
    with pytest.raises(InvalidArgumentError, match="host|port"):
        Target.parse(spec)


def test_quote_round_trips_through_a_real_shell():
    nasty = ["it's", 'a "dir"', "$(touch pwned)", "`id`", "x; rm -rf /", "new\nline", ""]
    out = subprocess.run(["sh", "-c", "printf '%s\\0' " + quote(nasty)], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [a.encode() for a in nasty]


def test_remote_path():
    assert remote_path("~/edgelift") == "edgelift"
    assert remote_path("~") == "."
    assert remote_path("/opt/models dir") == "/opt/models dir"
    with pytest.raises(InvalidArgumentError):
        remote_path("~bob/x")


def test_plain_hosts_file(tmp_path):
    f = tmp_path / "hosts"
    f.write_text("# kitchen and garage\npi@10.0.0.5\n\n10.0.0.6:2222  # garage\npi@10.0.0.5\n")
    hosts = read_hosts(f)
    assert [str(h.target) for h in hosts] == ["pi@10.0.0.5", "10.0.0.6:2222"]


def test_ansible_inventory_groups_vars_children(tmp_path):
    f = tmp_path / "inventory.ini"
    f.write_text(
        "[kitchen]\n"
        "k1 ansible_host=10.0.0.5 ansible_user=pi\n"
        "k2 ansible_host=10.0.0.6 ansible_port=2222 ansible_python_interpreter='/home/pi/my venv/bin/python'\n"
        "[garage]\n"
        "g1\n"
        "[house:children]\n"
        "kitchen\n"
        "[kitchen:vars]\n"
        "edgelift_remote_dir=~/models\n"
    )
    kitchen = read_hosts(f, group="kitchen")
    assert [(h.name, str(h.target)) for h in kitchen] == [("k1", "pi@10.0.0.5"), ("k2", "10.0.0.6:2222")]
    assert kitchen[1].remote_python == "/home/pi/my venv/bin/python"
    assert {h.remote_dir for h in kitchen} == {"~/models"}
    assert [h.name for h in read_hosts(f, group="house")] == ["k1", "k2"]
    everyone = read_hosts(f)
    assert [h.name for h in everyone] == ["k1", "k2", "g1"] and everyone[2].remote_dir is None
    with pytest.raises(InvalidArgumentError, match="'office'.*garage, house, kitchen"):
        read_hosts(f, group="office")


@pytest.mark.parametrize("text, match", [
    ("[pis\nk1\n", "no closing"),
    ("[pis]\nk1 ansible_port=ssh\n", "ansible_port"),
    ("[pis]\nk1 flag\n", "key=value"),
    ("# nothing\n", "no hosts"),
    ("[pis]\nk1 ansible_port=99999\n", r"host 'k1' in the inventory: port 99999 .* outside 1\.\.65535"),
    ("[pis]\nk1 ansible_port=0\n", "outside 1..65535"),
    ("[pis]\nk1 ansible_user=$(touch/x)\n", "host 'k1' in the inventory: cannot read the host"),
    ("[pis]\nk1 ansible_host=evil;id\n", "host 'k1' in the inventory: cannot read the host"),
])
def test_bad_inventories(tmp_path, text, match):
    f = tmp_path / "inv"
    f.write_text(text)
    with pytest.raises(InvalidArgumentError, match=match):
        read_hosts(f)


def test_missing_hosts_file(tmp_path):
    with pytest.raises(ModelNotFoundError, match="hosts file"):
        read_hosts(tmp_path / "nope.ini")




def test_agent_is_python39_source_without_edgelift_or_tensorflow():
    import ast

    from edgelift.device.agent import AGENT_FILE

    tree = ast.parse(AGENT_FILE.read_text(), feature_version=(3, 9))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"edgelift", "tensorflow", "tf_keras", "click"}
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "zip"]
    assert all(not any(k.arg == "strict" for k in c.keywords) for c in calls)  # zip(strict=) is 3.10+


def test_deploy_modules_never_import_tensorflow():
    code = ("import sys, edgelift.device.remote.deploy, edgelift.device.remote.fleet, edgelift.device.remote.bundle, "
            "edgelift.cli.cmd_deploy;"
            "bad = [m for m in ('tensorflow', 'tf_keras', 'jax') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("spec, command", [
    ("pi@192.168.1.20:2222", "ssh -p 2222 pi@192.168.1.20 true"),
    ("raspberrypi.local", "ssh raspberrypi.local true"),
    ("root@[::1]:22", "ssh -p 22 root@::1 true"),
])
def test_hints_print_an_ssh_command_that_works_when_pasted(spec, command):
    assert Target.parse(spec).ssh_command("true") == command
