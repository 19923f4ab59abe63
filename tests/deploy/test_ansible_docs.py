"""ansible-doc reads every edgelift.pi module, each with the shared device options and failure results (doc
fragment edgelift.pi.device) and its own options and return values: the documentation a user reads is the one
the collection ships. A module file run outside the controller refuses, through the collection's module_utils."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "device" / "ansible"
MODULES = sorted(p.stem for p in (COLLECTIONS / "ansible_collections/edgelift/pi/plugins/modules").glob("*.py"))
SHARED = {"remote_dir", "remote_python", "ssh_config", "identity", "accept_new_host_key"}
OWN = {"deploy": {"bundle", "keep", "install_runtime", "wheels"}, "health": {"bundle"}, "info": set(),
       "install_runtime": {"wheels"}, "rollback": set(), "run": {"input", "output", "delegate", "threads"}}
RETURNS = {"deploy": {"bundle_id", "msg", "partition", "previous", "release", "runtime"},
           "health": {"latency_ms", "msg", "partition", "release", "runtime", "seconds"}, "info": {"device"},
           "install_runtime": {"msg", "python"}, "rollback": {"msg", "previous", "release"},
           "run": {"bundle_id", "delegate", "dtypes", "latency_ms", "output", "partition", "runtime", "shapes"}}


def test_every_module_is_listed_here():
    assert set(MODULES) == set(OWN)


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_reads_the_module(module):
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS)}
    proc = subprocess.run([sys.executable, "-m", "ansible", "doc", "--json", f"edgelift.pi.{module}"],
                          capture_output=True, text=True, env=env, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    read = json.loads(proc.stdout)[f"edgelift.pi.{module}"]
    doc = read["doc"]
    assert set(doc["options"]) == SHARED | OWN[module]
    assert any("Runs on the controller" in n for n in doc.get("notes", []))
    assert any("On failure every module returns msg" in n for n in doc.get("notes", []))
    assert set(read["return"]) == RETURNS[module]


@pytest.mark.parametrize("module", MODULES)
def test_module_file_refuses_to_run_off_the_controller(module):
    env = {**os.environ, "PYTHONPATH": str(COLLECTIONS)}
    proc = subprocess.run([sys.executable, "-m", f"ansible_collections.edgelift.pi.plugins.modules.{module}"],
                          capture_output=True, text=True, env=env, check=False, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"edgelift.pi.{module} runs on the controller through its action plugin; "
                                   "it cannot run on the device")
