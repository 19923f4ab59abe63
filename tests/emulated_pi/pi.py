"""The emulated Raspberry Pi for tests: Debian bookworm arm64 python3.11 + a TFLite runtime under qemu-user.

    from tests.emulated_pi.pi import ensure_emulated_pi
    pi = ensure_emulated_pi()                          # builds .cache/emulated-pi/ once (device/emulate/pi_root.py)
    subprocess.run([*pi.python(cpu="max", runtime="ai-edge-litert"), "-c", "print(1)"])
    pi.launcher("tflite-runtime")                      # .cache/emulated-pi/bin/python3-tflite-runtime: a `python3`
                                                       # for ssh (--remote-python); QEMU_CPU=max picks the Pi 5 CPU

Other test folders get the session fixture by importing it into their conftest.py:

    from tests.emulated_pi.pi import emulated_pi  # noqa: F401
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from edgelift.device.emulate import pi_root
from tests.artefacts import missing

RUNTIMES = tuple(pi_root.RUNTIMES)
# The CPUs qemu emulates for the two boards: the Pi 4's Cortex-A72 is ARMv8.0 (no SDOT); qemu's `max` has the
# ARMv8.2 dot-product extension like the Pi 5's Cortex-A76.
CPUS = {"pi4": "cortex-a72", "pi5": "max"}
# Under qemu 10 (the ai-edge-litert 2.3 launcher) the Pi 5 runs on qemu's model of its own core.
QEMU10_CPUS = {"pi4": "cortex-a72", "pi5": "cortex-a76"}
RUNNER = Path(__file__).resolve().with_name("runner.py")
TIMEOUT = 600


@dataclass(frozen=True)
class EmulatedPi:
    cache: Path

    @property
    def root(self) -> Path:
        """The folder the arm64 .debs are unpacked into (qemu's -L prefix)."""
        return self.cache / "root"

    @property
    def interpreter(self) -> Path:
        return self.root / pi_root.PYTHON_IN_ROOT

    def _check(self, cpu: str, runtime: str) -> None:
        if runtime not in pi_root.RUNTIMES:
            raise ValueError(f"unknown runtime {runtime!r}; allowed: {', '.join(RUNTIMES)}")
        if not cpu or not all(c.isalnum() or c in "-_.,=" for c in cpu):
            raise ValueError(f"bad qemu CPU name {cpu!r}; use e.g. cortex-a72 (Pi 4) or max (Pi 5 features)")

    def pythonpath(self, runtime: str = "tflite-runtime") -> str:
        return ":".join(str(self.cache / "site" / s) for s in pi_root.RUNTIMES[runtime])

    def python(self, cpu: str = pi_root.DEFAULT_CPU, runtime: str = "tflite-runtime") -> list[str]:
        """argv prefix running the aarch64 python3.11 under qemu with `runtime` and numpy on PYTHONPATH.

        Like the launcher, it names the launcher as argv[0] (so `sys.executable` can start children) and sets
        QEMU_CPU (so those children get the same CPU).
        """
        self._check(cpu, runtime)
        return ["env", "-u", "PYTHONHOME", f"PYTHONPATH={self.pythonpath(runtime)}", "PYTHONNOUSERSITE=1",
                f"QEMU_CPU={cpu}", pi_root.qemu_for(self.cache, runtime), "-L", str(self.root),
                "-cpu", cpu, "-0", str(self.launcher(runtime)), str(self.interpreter)]

    def launcher(self, runtime: str = "tflite-runtime") -> Path:
        """The generated `python3` stand-in for `runtime` (env QEMU_CPU overrides the CPU, default cortex-a72)."""
        self._check(pi_root.DEFAULT_CPU, runtime)
        return self.cache / "bin" / f"python3-{runtime}"

    def run(self, args: list[str], *, cpu: str = pi_root.DEFAULT_CPU, runtime: str = "tflite-runtime",
            input: str | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
        """Run the emulated interpreter with `args`; text output captured, never raises on a non-zero exit."""
        return subprocess.run([*self.python(cpu, runtime), *args], input=input, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def run_batch(self, jobs: list[dict], *, cpu: str = pi_root.DEFAULT_CPU, runtime: str = "tflite-runtime",
                  timeout: float = TIMEOUT) -> dict:
        """Run runner.py's jobs in one emulated process; returns {"env", "results"} or raises with its stderr.

        A job's failure is reported in its result; a crash of the whole process (a signal such as SIGILL)
        raises RuntimeError naming the signal, the CPU and the runtime.
        """
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump({"runtime": runtime, "jobs": jobs}, fh)
        try:
            proc = self.run([str(RUNNER), fh.name], cpu=cpu, runtime=runtime, timeout=timeout)
        finally:
            Path(fh.name).unlink(missing_ok=True)
        if proc.returncode != 0:
            # qemu-user reports a guest's fatal signal as "qemu: uncaught target signal N" and exits 128+N.
            raise RuntimeError(f"emulated runner exited {proc.returncode} (cpu={cpu}, runtime={runtime}):\n"
                               f"{proc.stderr[-4000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure_emulated_pi(cache: Path | None = None) -> EmulatedPi:
    """Build (first time; minutes) or reuse (a stamp check) the emulated Pi; raises pi_root.SetupError."""
    return EmulatedPi(pi_root.build(cache or pi_root.DEFAULT_CACHE))


@pytest.fixture(scope="session")
def emulated_pi() -> EmulatedPi:
    """Session fixture: the emulated Raspberry Pi (built or reused under .cache/emulated-pi/)."""
    if shutil.which(pi_root.QEMU) is None:
        missing(pi_root.QEMU, "Debian qemu-user-static: `make system-deps` (.ci/system-deps.sh) installs it")
    try:
        return ensure_emulated_pi()
    except pi_root.SetupError as exc:
        pytest.fail(f"could not build the emulated Raspberry Pi: {exc}", pytrace=False)


if __name__ == "__main__":  # python -m tests.emulated_pi.pi: build and print the launchers
    pi = ensure_emulated_pi()
    for name in RUNTIMES:
        print(pi.launcher(name))
    sys.exit(0)
