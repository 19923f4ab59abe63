"""Builds the C delegate with CMake as part of `pip install` (wheel and editable alike).

The library is a plain shared object loaded with dlopen by TFLite's `load_delegate`, not a Python extension,
so it keeps its own name (libedgelift_neon.so) and lands in the `edgelift.delegates.neon` package folder.
"""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
LIBRARY = "libedgelift_neon.so"


def _replace(src: Path, dest: Path) -> None:
    """Copy by rename: a process that has the old library mapped keeps a valid file (no SIGBUS)."""
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.copy2(src, tmp)
    os.replace(tmp, dest)


class CMakeLibrary(Extension):
    def __init__(self, name: str):
        super().__init__(name, sources=[])


class BuildWithCMake(build_ext):
    def build_extension(self, ext: Extension) -> None:
        build_dir = ROOT / "build" / "native"
        build_dir.mkdir(parents=True, exist_ok=True)
        cmake = shutil.which("cmake") or "cmake"
        subprocess.run(
            [cmake, "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release"], check=True
        )
        subprocess.run([cmake, "--build", str(build_dir), "--parallel", str(os.cpu_count() or 2)], check=True)
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace(build_dir / "delegates" / "neon" / LIBRARY, target)
        self._cross_build_aarch64(cmake, target.parent / "aarch64" / LIBRARY)

    def _cross_build_aarch64(self, cmake: str, target: Path) -> None:
        """On x86-64 with Debian's gcc-aarch64-linux-gnu: also build the Raspberry Pi library (optional)."""
        import platform

        if platform.machine().lower() not in ("x86_64", "amd64") or not shutil.which("aarch64-linux-gnu-gcc"):
            return
        build_dir = ROOT / "build" / "aarch64-cmake"
        toolchain = ROOT / "delegates" / "neon" / "aarch64-linux-gnu.cmake"
        try:
            subprocess.run([cmake, "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                            f"-DCMAKE_TOOLCHAIN_FILE={toolchain}"], check=True)
            subprocess.run([cmake, "--build", str(build_dir), "--parallel", str(os.cpu_count() or 2)], check=True)
        except subprocess.CalledProcessError as e:  # the x86-64 library is what this install needs
            print(f"warning: the aarch64 cross build failed ({e}); `make native-aarch64` retries it")
            return
        built = build_dir / "delegates" / "neon" / LIBRARY
        for dest in (target, ROOT / "build" / "aarch64" / LIBRARY):
            dest.parent.mkdir(parents=True, exist_ok=True)
            _replace(built, dest)

    def get_ext_filename(self, fullname: str) -> str:
        # keep the library's own name instead of a CPython extension suffix
        return os.path.join(*fullname.split(".")[:-1], LIBRARY)


setup(ext_modules=[CMakeLibrary("edgelift.delegates.neon.libedgelift_neon")], cmdclass={"build_ext": BuildWithCMake})
