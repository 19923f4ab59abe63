"""ansible-doc reads every edgelift.pi module, each with the shared device options (doc fragment
edgelift.pi.device) and its own: the documentation a user reads is the one the collection ships."""

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


def test_every_module_is_listed_here():
    assert set(MODULES) == set(OWN)


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_reads_the_module(module):
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS)}
    proc = subprocess.run([sys.executable, "-m", "ansible", "doc", "--json", f"edgelift.pi.{module}"],
                          capture_output=True, text=True, env=env, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)[f"edgelift.pi.{module}"]["doc"]
    assert set(doc["options"]) == SHARED | OWN[module]
    assert any("Runs on the controller" in n for n in doc.get("notes", []))
