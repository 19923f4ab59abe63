"""Build the emulated Raspberry Pi: Debian bookworm arm64 Python 3.11 in a plain folder, run under qemu-user.

Raspberry Pi OS Bookworm is Debian bookworm arm64 with Python 3.11. This module (standard library only) builds,
under `emulated-pi/` of edgelift's cache folder (`cache_home()`: `.cache/` of the checkout):

    debs/                    the arm64 .debs of python3.11 and the closure of its library dependencies
    root/                    those .debs unpacked with `dpkg -x` (no chroot, no root filesystem build)
    wheels/                  aarch64 wheels: numpy 1.26, tflite-runtime 2.14, ai-edge-litert 1.4 and 2.3 (+ their
                             pure-Python dependencies)
    qemu10/                  qemu-user 10 (static) from bookworm-backports, unpacked with `dpkg-deb -x` so it
                             does not replace Debian's qemu 7.2 (whose dynamic build loads the cost meter's
                             plugin): ai-edge-litert 2.3 crashes under qemu 7.2 and runs under qemu 10
    site/<name>/             each wheel unzipped into its own folder, so a runtime can be chosen by PYTHONPATH
    bin/python3-<runtime>    launchers that behave like `python3` (for `-c`, scripts, stdin), e.g. as a
                             deploy target's `--remote-python`; QEMU_CPU overrides the CPU (default cortex-a72);
                             python3-ai-edge-litert-2.3 runs on qemu10/, the others on qemu-aarch64-static 7.2
    stamp.json               what was built from which inputs; nothing is downloaded again while it matches
    boards/<board>/          `root/` seen through symlinks, plus the board's /proc/cpuinfo (board_root())

The .debs come from apt (`dpkg --add-architecture arm64`, `apt-get update`, `apt-get download`), which needs
root the first time only; the wheels from `pip download --only-binary=:all: --platform ...`.

It is the Pi of the tests (tests/emulated_pi) and of `edgelift bench --emulate` (edgelift.device.emulate).

Usage: python -m edgelift.device.emulate.pi_root [--cache DIR] [--force] [--print-root]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path


def cache_home() -> Path:
    """Where edgelift keeps what it builds for emulation: $EDGELIFT_CACHE if set, else `.cache/` of the checkout
    this code runs from (an editable install), else ~/.cache/edgelift."""
    if os.environ.get("EDGELIFT_CACHE"):
        return Path(os.environ["EDGELIFT_CACHE"]).expanduser().resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "device" / "emulate").is_dir():
        return checkout / ".cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgelift"


DEFAULT_CACHE = cache_home() / "emulated-pi"
QEMU = "qemu-aarch64-static"
PYTHON_IN_ROOT = "usr/bin/python3.11"
# qemu -L looks a path up in the folder first, then on the host. The launchers pass their own path as argv[0]
# (`qemu -0`), so Python finds its prefix at /usr through the folder, as on a Pi, and `sys.executable` is a
# launcher that can start child interpreters. These site folders exist on the host too: empty ones in the
# folder hide the host's x86 packages (and .pth files) from the emulated Python.
SHADOWED_SITE_DIRS = ("usr/local/lib/python3.11/dist-packages", "usr/lib/python3/dist-packages",
                      "usr/lib/python3.11/dist-packages", "usr/lib/python3.11/site-packages")
DEFAULT_CPU = "cortex-a72"  # Raspberry Pi 4; `max` has the dot-product extension like the Pi 5's Cortex-A76

# Bump when the layout or the launchers change: it is part of the stamp.
LAYOUT_VERSION = 2

# The Debian packages whose arm64 dependency closure is unpacked. libstdc++6 is not a dependency of Python
# but of the TFLite runtimes' extension modules.
DEB_ROOTS = ("python3.11-minimal", "libpython3.11-stdlib", "libstdc++6", "libgcc-s1")
# Dependencies that a Python interpreter in a folder never uses (package management, maintainer scripts).
DEB_SKIP = frozenset({"dpkg", "tar", "perl-base", "install-info", "debconf", "readline-common", "gcc-12-base"})

# The aarch64 wheels, each unzipped into site/<site>/. Pure-Python wheels need no platform.
WHEELS = (
    {"site": "numpy", "req": "numpy==1.26.4", "platform": True},
    {"site": "tflite-runtime", "req": "tflite-runtime==2.14.0", "platform": True},
    {"site": "ai-edge-litert", "req": "ai-edge-litert==1.4.0", "platform": True},
    # ai-edge-litert 1.4's declared dependencies (numpy comes from site/numpy; backports.strenum is only for
    # Python < 3.11, whose enum module lacks StrEnum).
    {"site": "ai-edge-litert", "req": "flatbuffers==25.12.19", "platform": False},
    {"site": "ai-edge-litert", "req": "tqdm==4.70.1", "platform": False},
    {"site": "ai-edge-litert", "req": "typing-extensions==4.15.0", "platform": False},
    # ai-edge-litert 2.3: what Pi users install now. Its interpreter imports no protobuf or ml_dtypes (declared
    # for its model utilities), so only the dependencies 1.4 has too.
    {"site": "ai-edge-litert-2.3", "req": "ai-edge-litert==2.3.0", "platform": True},
    {"site": "ai-edge-litert-2.3", "req": "flatbuffers==25.12.19", "platform": False},
    {"site": "ai-edge-litert-2.3", "req": "tqdm==4.70.1", "platform": False},
    {"site": "ai-edge-litert-2.3", "req": "typing-extensions==4.15.0", "platform": False},
)
# runtime name -> the site folders on its PYTHONPATH, in order.
RUNTIMES = {
    "tflite-runtime": ("tflite-runtime", "numpy"),
    "ai-edge-litert": ("ai-edge-litert", "numpy"),
    "ai-edge-litert-2.3": ("ai-edge-litert-2.3", "numpy"),
}
# runtimes that need qemu 10 (QEMU10 below); the others run on Debian's qemu-aarch64-static 7.2.
QEMU10_RUNTIMES = frozenset({"ai-edge-litert-2.3"})
# qemu-user 10 from bookworm-backports (its qemu-user-static there is only a set of links to it): the .deb is
# downloaded into debs/ and unpacked into qemu10/; .ci/system-deps.sh adds the backports source.
QEMU10_PACKAGE = "qemu-user/bookworm-backports"
QEMU10_IN_DEB = "usr/bin/qemu-aarch64"
QEMU10_MAJOR = 10
# manylinux tags a bookworm (glibc 2.36) aarch64 system accepts; pip does not expand these by itself.
GLIBC_MINORS = (36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 17)


class SetupError(RuntimeError):
    """The emulated Pi could not be built; the message says why and what to do."""


def log(msg: str) -> None:
    print(f"[emulated-pi] {msg}", file=sys.stderr, flush=True)


def _run(argv: list[str], *, cwd: Path | None = None, what: str) -> str:
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise SetupError(f"{what}: {argv[0]} not found; install the Debian packages in .ci/system-deps.sh") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
        raise SetupError(f"{what} failed (exit {proc.returncode}): {' '.join(argv[:6])} ...\n" + "\n".join(tail))
    return proc.stdout


def inputs() -> dict:
    """Everything the build depends on; its hash is the stamp key."""
    return {
        "layout": LAYOUT_VERSION,
        # this script (launchers, layout): an edit re-assembles from the kept .debs and wheels, no download
        "script": hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16],
        "suite": "bookworm",
        "deb_roots": list(DEB_ROOTS),
        "deb_skip": sorted(DEB_SKIP),
        "wheels": [dict(w) for w in WHEELS],
        "runtimes": {k: list(v) for k, v in RUNTIMES.items()},
    }


def inputs_key() -> str:
    return hashlib.sha256(json.dumps(inputs(), sort_keys=True).encode()).hexdigest()[:20]


# -- Debian packages ----------------------------------------------------------------------------------------
def _ensure_arm64_apt() -> None:
    foreign = _run(["dpkg", "--print-foreign-architectures"], what="listing dpkg architectures").split()
    listed = subprocess.run(["apt-cache", "show", "--no-all-versions", "python3.11-minimal:arm64"],
                            capture_output=True, text=True, check=False).returncode == 0
    if "arm64" in foreign and listed:
        return
    if os.geteuid() != 0:
        raise SetupError("the arm64 package lists are missing and this is not root; run once as root: "
                         "dpkg --add-architecture arm64 && apt-get update")
    if "arm64" not in foreign:
        log("dpkg --add-architecture arm64")
        _run(["dpkg", "--add-architecture", "arm64"], what="adding the arm64 architecture")
    log("apt-get update")
    _run(["apt-get", "update", "-q"], what="apt-get update")


def _show(packages: list[str]) -> dict[str, dict[str, str]]:
    """`apt-cache show` of arm64 packages -> {name: fields}; packages apt does not know are left out."""
    if not packages:
        return {}
    proc = subprocess.run(["apt-cache", "show", "--no-all-versions", *(f"{p}:arm64" for p in packages)],
                          capture_output=True, text=True, check=False)
    found: dict[str, dict[str, str]] = {}
    for stanza in proc.stdout.split("\n\n"):  # unknown (virtual) packages just have no stanza
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line[:1].isspace() and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields.get("Package") in packages and fields.get("Architecture") in ("arm64", "all"):
            found.setdefault(fields["Package"], fields)
    return found


def _dep_names(field: str) -> list[str]:
    names = []
    for clause in filter(None, (c.strip() for c in field.split(","))):
        first = clause.split("|")[0].strip()  # the first alternative is what apt would install
        names.append(first.split("(")[0].split(":")[0].strip())
    return names


def resolve_debs() -> dict[str, str]:
    """The arm64 dependency closure of DEB_ROOTS (Depends + Pre-Depends): {package: version}."""
    todo, seen, closure = list(DEB_ROOTS), set(), {}
    while todo:
        batch = [p for p in dict.fromkeys(todo) if p not in seen and p not in DEB_SKIP]
        todo = []
        seen.update(batch)
        for name, fields in _show(batch).items():
            if fields.get("Architecture") == "all":
                continue  # data files (mime types, time zones): not needed by the interpreter
            closure[name] = fields["Version"]
            for key in ("Pre-Depends", "Depends"):
                todo += _dep_names(fields.get(key, ""))
    missing = [r for r in DEB_ROOTS if r not in closure]
    if missing:
        raise SetupError(f"apt knows no arm64 package {', '.join(missing)}; check /etc/apt/sources.list.d "
                         "for a bookworm source, then run apt-get update")
    return dict(sorted(closure.items()))


def download_debs(closure: dict[str, str], debs: Path) -> list[Path]:
    debs.mkdir(parents=True, exist_ok=True)

    def path(name: str, version: str) -> Path:
        return debs / f"{name}_{version.replace(':', '%3a')}_arm64.deb"  # apt's name for an epoch

    wanted = [f"{n}:arm64={v}" for n, v in closure.items() if not path(n, v).exists()]
    if wanted:
        log(f"apt-get download {len(wanted)} arm64 packages")
        _run(["apt-get", "download", "-q", *wanted], cwd=debs, what="apt-get download")
    files = [path(n, v) for n, v in closure.items()]
    absent = [f.name for f in files if not f.exists()]
    if absent:
        raise SetupError(f"apt-get download left out {', '.join(absent)}")
    return files


# -- wheels ------------------------------------------------------------------------------------------------
def download_wheels(wheels: Path) -> dict[str, Path]:
    """{requirement: wheel file}; files already in wheels/ are reused."""
    wheels.mkdir(parents=True, exist_ok=True)
    result = {}
    for spec in WHEELS:
        name, version = spec["req"].split("==")
        stem = f"{name.replace('-', '_').replace('.', '_').lower()}-{version}-"
        have = [p for p in wheels.glob("*.whl") if p.name.lower().replace(".", "_").startswith(stem)
                or p.name.lower().startswith(stem)]
        if not have:
            argv = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "-d", str(wheels), spec["req"]]
            if spec["platform"]:
                for minor in GLIBC_MINORS:
                    argv += ["--platform", f"manylinux_2_{minor}_aarch64"]
                argv += ["--platform", "manylinux2014_aarch64", "--python-version", "3.11",
                         "--implementation", "cp", "--abi", "cp311"]
            log(f"pip download {spec['req']}")
            _run(argv, what=f"pip download {spec['req']}")
            have = [p for p in wheels.glob("*.whl") if p.name.lower().replace(".", "_").startswith(stem)
                    or p.name.lower().startswith(stem)]
        if not have:
            raise SetupError(f"pip download {spec['req']} produced no wheel in {wheels}")
        result[spec["req"]] = have[0]
    return result


# -- assembly ----------------------------------------------------------------------------------------------
def qemu10_path(cache: Path) -> Path:
    return cache / "qemu10" / QEMU10_IN_DEB


def qemu_for(cache: Path, runtime: str) -> str:
    """The qemu-aarch64 binary a runtime's launcher uses."""
    if runtime in QEMU10_RUNTIMES:
        return str(qemu10_path(cache))
    return shutil.which(QEMU) or f"/usr/bin/{QEMU}"


def ensure_qemu10(cache: Path) -> Path:
    """qemu-aarch64 10 unpacked under qemu10/ (downloaded once from bookworm-backports); returns its path."""
    binary = qemu10_path(cache)
    if binary.is_file() and _qemu_major(binary) >= QEMU10_MAJOR:
        return binary
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob("qemu-user_*bpo12*_amd64.deb"))
    if not found:
        listed = subprocess.run(["apt-cache", "show", QEMU10_PACKAGE], capture_output=True, text=True, check=False)
        if listed.returncode != 0:
            raise SetupError("apt knows no qemu-user in bookworm-backports; run .ci/system-deps.sh (it adds "
                             "bookworm-backports to /etc/apt/sources.list.d and runs apt-get update)")
        log(f"apt-get download {QEMU10_PACKAGE}")
        _run(["apt-get", "download", "-q", QEMU10_PACKAGE], cwd=debs, what="apt-get download qemu-user 10")
        found = sorted(debs.glob("qemu-user_*bpo12*_amd64.deb"))
    if not found:
        raise SetupError(f"apt-get download {QEMU10_PACKAGE} left no qemu-user_*bpo12*_amd64.deb in {debs}")
    work = Path(tempfile.mkdtemp(prefix="qemu10-", dir=cache))
    try:
        _run(["dpkg-deb", "-x", str(found[-1]), str(work)], what=f"dpkg -x {found[-1].name}")
        if _qemu_major(work / QEMU10_IN_DEB) < QEMU10_MAJOR:
            raise SetupError(f"{found[-1].name} holds no qemu-aarch64 {QEMU10_MAJOR} or later")
        old = cache / "qemu10"
        if old.exists():
            trash = cache / f".old-qemu10-{os.getpid()}"
            old.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        work.rename(old)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return binary


def _qemu_major(binary: Path) -> int:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return 0
    words = out.split()
    try:  # "qemu-aarch64 version 10.0.2 (Debian ...)"
        return int(words[words.index("version") + 1].split(".")[0])
    except (ValueError, IndexError):
        return 0


def launcher_text(cache: Path, runtime: str) -> str:
    root = cache / "root"
    qemu = qemu_for(cache, runtime)
    pythonpath = ":".join(str(cache / "site" / s) for s in RUNTIMES[runtime])
    return f"""#!/bin/sh
# Generated by edgelift.device.emulate.pi_root: Debian bookworm arm64 python3.11 under qemu-user,
# with {runtime} and numpy on PYTHONPATH. Behaves like python3; QEMU_CPU picks the CPU (default {DEFAULT_CPU}).
ROOT='{root}'
PYTHONPATH='{pythonpath}'${{PYTHONPATH:+:$PYTHONPATH}}
export PYTHONPATH
export PYTHONNOUSERSITE=1
unset PYTHONHOME
exec {qemu} -L "$ROOT" -cpu "${{QEMU_CPU:-{DEFAULT_CPU}}}" -0 "$0" "$ROOT/{PYTHON_IN_ROOT}" "$@"
"""


def assemble(cache: Path, debs: list[Path], wheels: dict[str, Path]) -> None:
    """Unpack into fresh folders next to the old ones, then swap them in."""
    work = Path(tempfile.mkdtemp(prefix="assemble-", dir=cache))
    try:
        root = work / "root"
        root.mkdir()
        for deb in debs:
            _run(["dpkg-deb", "-x", str(deb), str(root)], what=f"dpkg -x {deb.name}")
        if not (root / PYTHON_IN_ROOT).exists():
            raise SetupError(f"{PYTHON_IN_ROOT} is not in the unpacked packages")
        for folder in SHADOWED_SITE_DIRS:
            (root / folder).mkdir(parents=True, exist_ok=True)
        site = work / "site"
        for spec in WHEELS:
            target = site / spec["site"]
            target.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(wheels[spec["req"]]) as zf:
                zf.extractall(target)
        for so in site.rglob("*.so*"):  # zipfile drops the execute bit; the loader does not need it, ld does
            so.chmod(0o755)
        bin_dir = work / "bin"
        bin_dir.mkdir()
        for runtime in RUNTIMES:
            launcher = bin_dir / f"python3-{runtime}"
            launcher.write_text(launcher_text(cache, runtime))
            launcher.chmod(0o755)
        for name in ("root", "site", "bin"):
            old = cache / name
            if old.exists():
                trash = cache / f".old-{name}-{os.getpid()}"
                old.rename(trash)
                shutil.rmtree(trash, ignore_errors=True)
            (work / name).rename(old)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def smoke(cache: Path) -> str:
    """Run the emulated interpreter once; returns what it prints."""
    return _run([str(cache / "bin" / "python3-tflite-runtime"), "-c",
                 "import platform, sys, numpy; print(platform.machine(), sys.version.split()[0], numpy.__version__)"],
                what="running the emulated interpreter").strip()


@contextlib.contextmanager
def _lock(cache: Path):
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def is_current(cache: Path) -> bool:
    stamp = cache / "stamp.json"
    if not stamp.exists():
        return False
    try:
        data = json.loads(stamp.read_text())
    except ValueError:
        return False
    return (data.get("key") == inputs_key() and data.get("cache") == str(cache)
            and (cache / "root" / PYTHON_IN_ROOT).exists()
            and all((cache / "bin" / f"python3-{r}").exists() for r in RUNTIMES)
            and qemu10_path(cache).is_file())


def build(cache: Path = DEFAULT_CACHE, *, force: bool = False) -> Path:
    """Build (or reuse) the emulated Pi under `cache`; returns `cache`. Idempotent and safe to call concurrently."""
    cache = Path(cache).resolve()
    if not force and is_current(cache):
        return cache
    if shutil.which(QEMU) is None:
        raise SetupError(f"{QEMU} not found; install Debian's qemu-user-static (see .ci/system-deps.sh)")
    with _lock(cache):
        if not force and is_current(cache):
            return cache
        started = time.monotonic()
        _ensure_arm64_apt()
        closure = resolve_debs()
        try:
            debs = download_debs(closure, cache / "debs")
        except SetupError:
            if os.geteuid() != 0:
                raise
            # Old package lists name versions the mirror no longer has: refresh them once and resolve again.
            log("apt-get download failed; apt-get update and retry")
            _run(["apt-get", "update", "-q"], what="apt-get update")
            closure = resolve_debs()
            debs = download_debs(closure, cache / "debs")
        wheels = download_wheels(cache / "wheels")
        ensure_qemu10(cache)
        assemble(cache, debs, wheels)
        seen = smoke(cache)
        seconds = round(time.monotonic() - started, 1)
        stamp = {"key": inputs_key(), "cache": str(cache), "inputs": inputs(), "debs": closure,
                 "wheels": {r: p.name for r, p in wheels.items()}, "smoke": seen, "build_seconds": seconds}
        tmp = cache / "stamp.json.tmp"
        tmp.write_text(json.dumps(stamp, indent=2) + "\n")
        tmp.replace(cache / "stamp.json")
        log(f"built {cache} in {seconds} s: {seen}")
    return cache


def board_root(cache: Path, name: str, cpuinfo: str) -> Path:
    """`root/` as a board sees it: a folder of symlinks to root's entries plus the board's own /proc/cpuinfo.

    qemu-user looks every absolute path up under -L first, so the guest reads this cpuinfo instead of the
    host's (an x86 host's /proc/cpuinfo makes XNNPACK's CPU detection find no ARM cores). Rebuilt when the
    root's entries or the cpuinfo change; the cache lock keeps concurrent callers apart.
    """
    cache = Path(cache).resolve()
    root = cache / "root"
    target = cache / "boards" / name
    entries = sorted(e.name for e in root.iterdir() if e.name != "proc")
    want = json.dumps({"entries": entries, "cpuinfo": cpuinfo}, sort_keys=True)
    stamp = target / ".board.json"
    if stamp.exists() and stamp.read_text() == want:
        return target
    with _lock(cache):
        if stamp.exists() and stamp.read_text() == want:
            return target
        work = Path(tempfile.mkdtemp(prefix=f"board-{name}-", dir=cache))
        for entry in entries:
            (work / entry).symlink_to(root / entry)
        (work / "proc").mkdir()
        (work / "proc" / "cpuinfo").write_text(cpuinfo)
        (work / ".board.json").write_text(want)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            trash = cache / f".old-board-{name}-{os.getpid()}"
            target.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        work.rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="cache folder (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    parser.add_argument("--print-root", action="store_true", help="print the unpacked root folder")
    args = parser.parse_args(argv)
    try:
        cache = build(args.cache, force=args.force)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(cache / "root" if args.print_root else cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
