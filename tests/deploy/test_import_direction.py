"""The device packages import in one direction only, read from the source with ast (no import needed).

runtime (run a model here) is under checking (judge it) and remote (get it onto a device); those two do not
import each other. Inside remote, each module imports only the ones before it in LAYERS, so fleet calls deploy
and deploy never reaches back to the fleet, the rollout or the public API.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DEVICE = Path(__file__).resolve().parents[2] / "device"
# bottom first; a module may import those listed before it (and nothing after)
LAYERS = ["ssh", "lock", "bundle_delegate", "bundle_options", "signing", "bundle", "device", "install_runtime",
          "deploy", "deploy_options", "command_options", "commands", "converge", "fleet", "rollout_report", "rollout",
          "api"]
# emulate (the Pi cost meter) is a place `bench` runs: checking may call it, it never reaches back into checking
# (what both need, the delegate-list parser and the HTML page parts, lives beside them in device/)
FORBIDDEN = {"runtime": {"checking", "remote", "emulate"}, "checking": {"remote"}, "remote": {"checking"},
             "emulate": {"checking", "remote"}}


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every edgelift.device module `path` imports (relative or absolute, at any depth of the file)."""
    package = ".".join(("edgelift", "device", *path.relative_to(DEVICE).parts[:-1]))
    found = set()
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}  # `from . import deploy`
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m.removeprefix("edgelift.device.") for m in found if m.startswith("edgelift.device.")}


def test_the_layer_list_names_every_remote_module():
    on_disk = {p.stem for p in (DEVICE / "remote").glob("*.py")} - {"__init__"}
    assert on_disk == set(LAYERS)


@pytest.mark.parametrize("name", LAYERS)
def test_remote_modules_import_only_the_layers_below(name):
    later = {f"remote.{m}" for m in LAYERS[LAYERS.index(name) + 1:]}
    reached = imported_modules(DEVICE / "remote" / f"{name}.py")
    assert not reached & later, f"remote/{name}.py imports {sorted(reached & later)}, which build on it"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_do_not_import_upwards(package):
    for path in sorted((DEVICE / package).glob("*.py")):
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN[package]}
        assert not bad, f"{path.relative_to(DEVICE)} imports {sorted(bad)}"


def test_fleet_calls_deploy_and_deploy_never_the_fleet():
    assert "remote.deploy" in imported_modules(DEVICE / "remote" / "fleet.py")
    assert not {"remote.fleet", "remote.rollout", "remote.api"} & imported_modules(DEVICE / "remote" / "deploy.py")


def test_bench_reaches_the_meter_and_the_meter_never_bench():
    assert "emulate.meter" in imported_modules(DEVICE / "checking" / "bench.py")
    for path in sorted((DEVICE / "emulate").glob("*.py")):
        assert not {m for m in imported_modules(path) if m.startswith("checking")}, path.name


def test_shared_device_modules_import_no_subpackage_above_runtime():
    for name in ("bench_options", "html_page"):
        reached = {m.split(".")[0] for m in imported_modules(DEVICE / f"{name}.py")}
        assert not reached & {"checking", "emulate", "remote"}, (name, sorted(reached))


def test_the_reader_resolves_imports_of_modules_at_the_top_of_device():
    found = imported_modules(DEVICE / "bench_options.py", "from .checking import bench\nfrom .. import errors\n")
    assert found == {"checking", "checking.bench"}


def test_the_reader_sees_relative_and_lazy_imports():
    # the check can fail: the old deploy.py imported the fleet inside deploy(), and this reader finds that
    source = "def deploy():\n    from .fleet import deploy_fleet\n    from .. import checking\n"
    found = imported_modules(DEVICE / "remote" / "deploy.py", source)
    assert {"remote.fleet", "remote.fleet.deploy_fleet", "checking"} <= found
    # and the lazy import the meter once had, inside a function of device/emulate/meter.py
    lazy = "def emulate_bench():\n    from ..checking.bench import parse_delegates\n"
    assert "checking.bench" in imported_modules(DEVICE / "emulate" / "meter.py", lazy)
