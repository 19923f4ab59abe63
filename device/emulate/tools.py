"""The host tools the cost meter needs, found (or built) once, each missing one named with its Debian package.

- `qemu-aarch64`: Debian's *dynamic* qemu-user (7.2 in bookworm) loads TCG plugins; qemu-user-static cannot.
- `llvm-mc` (disassembles the executed blocks) and `llvm-mca` (schedules them for a Cortex core): Debian llvm.
- a C compiler for the block-counting plugin (plugin/count_blocks.c), built into the cache on first use.

`make emulate-tools` (part of `make test`) builds the plugin ahead of time; `.ci/system-deps.sh` installs the
packages.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgelift.errors import ToolUnavailableError

from .pi_root import cache_home

PLUGIN_DIR = Path(__file__).resolve().with_name("plugin")
PLUGIN_SOURCES = ("count_blocks.c", "qemu_plugin_api.h")
SYSTEM_DEPS = "install it with `.ci/system-deps.sh` from the edgelift checkout, or `apt-get install {pkg}`"


@dataclass(frozen=True)
class Tools:
    qemu: str
    llvm_mc: str
    llvm_mca: str
    llvm_nm: str
    plugin: Path


def _override(name: str) -> str | None:
    """$EDGELIFT_QEMU_AARCH64, $EDGELIFT_LLVM_MCA, ...: a path that replaces the search (checked)."""
    var = "EDGELIFT_" + name.upper().replace("-", "_")
    path = os.environ.get(var)
    if path is None:
        return None
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise ToolUnavailableError(f"${var} is {path!r}, which is not an executable file",
                                   hint=f"point it at {name} or unset it to search PATH")
    return path


def _which_llvm(name: str) -> str | None:
    """`name` on PATH, else the newest versioned Debian copy (llvm-mca-16, /usr/lib/llvm-16/bin/llvm-mca)."""
    found = _override(name) or shutil.which(name)
    if found:
        return found
    versioned = sorted(glob.glob(f"/usr/bin/{name}-[0-9]*") + glob.glob(f"/usr/lib/llvm-*/bin/{name}"),
                       key=lambda p: [int(x) for x in p.replace("/", "-").split("-") if x.isdigit()])
    return versioned[-1] if versioned else None


def find_qemu() -> str:
    qemu = _override("qemu-aarch64") or shutil.which("qemu-aarch64")
    if not qemu:
        static = " (qemu-aarch64-static is installed, but a static qemu cannot load plugins)" if shutil.which(
            "qemu-aarch64-static") else ""
        raise ToolUnavailableError(f"qemu-aarch64 (Debian's dynamic qemu-user) is not installed{static}",
                                   hint=SYSTEM_DEPS.format(pkg="qemu-user"))
    return qemu


def find_llvm(name: str) -> str:
    path = _which_llvm(name)
    if not path:
        raise ToolUnavailableError(f"{name} is not installed (the cost meter uses it to read the executed code)",
                                   hint=SYSTEM_DEPS.format(pkg="llvm"))
    return path


def build_plugin(cache: Path | None = None) -> Path:
    """The block-counting plugin, compiled for this host once per source version (cached)."""
    source = b"".join((PLUGIN_DIR / name).read_bytes() for name in PLUGIN_SOURCES)
    key = hashlib.sha256(source).hexdigest()[:16]
    out_dir = (cache or cache_home()) / "emulate"
    lib = out_dir / f"count_blocks-{key}.so"
    if lib.exists():
        return lib
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise ToolUnavailableError("no C compiler (cc) to build the cost meter's qemu plugin",
                                   hint=SYSTEM_DEPS.format(pkg="gcc"))
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = lib.with_name(f".{lib.name}.{os.getpid()}.tmp")
    proc = subprocess.run([cc, "-std=c11", "-D_DEFAULT_SOURCE", "-O2", "-shared", "-fPIC", "-Wall", "-Wextra",
                           "-Werror", "-o", str(tmp), str(PLUGIN_DIR / "count_blocks.c"), "-lpthread"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ToolUnavailableError(f"building the qemu plugin failed: {(proc.stderr or proc.stdout).strip()[:400]}",
                                   hint=f"check {cc} works (`{cc} --version`)")
    os.replace(tmp, lib)
    return lib


def find_tools(cache: Path | None = None) -> Tools:
    """Every tool the meter needs, or one error naming the first that is missing and how to install it."""
    return Tools(qemu=find_qemu(), llvm_mc=find_llvm("llvm-mc"), llvm_mca=find_llvm("llvm-mca"),
                 llvm_nm=find_llvm("llvm-nm"), plugin=build_plugin(cache))


def llvm_version(llvm_mca: str) -> str:
    """'14.0.6' from `llvm-mca --version` (part of the cost cache's key: another llvm schedules differently)."""
    out = subprocess.run([llvm_mca, "--version"], capture_output=True, text=True, check=False).stdout
    for word in out.replace(",", " ").split():
        if word[:1].isdigit() and "." in word:
            return word
    return "unknown"


if __name__ == "__main__":  # python -m edgelift.device.emulate.tools: check the tools, build the plugin
    tools = find_tools()
    print(f"qemu {tools.qemu}, llvm-mca {tools.llvm_mca} ({llvm_version(tools.llvm_mca)}), plugin {tools.plugin}")
