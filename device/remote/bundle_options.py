"""`BundleOptions`: every setting of `edgelift bundle` (CLI and `edgelift.bundle`), checked once through
`edgelift.option_checks` before the model is read; and the boards a bundle is built for."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ... import option_checks as check
from ...errors import InvalidArgumentError, ModelNotFoundError
from .bundle_delegate import check_atol

# target -> what the bundle is built for. Every target is 64-bit ARM Linux; the delegate picks its kernels
# (NEON MLAL on ARMv8.0, SDOT on ARMv8.2 dot product) at run time, so one library serves them all.
TARGETS: dict[str, dict[str, Any]] = {
    "rpi4": {"arch": "aarch64", "cpu": "Cortex-A72", "board": "Raspberry Pi 4", "dotprod": False},
    "rpi5": {"arch": "aarch64", "cpu": "Cortex-A76", "board": "Raspberry Pi 5", "dotprod": True},
    "aarch64": {"arch": "aarch64", "cpu": "any ARMv8-A", "board": "64-bit ARM Linux", "dotprod": None},
    # a bundle this desktop can run itself (the agent and the x86-64 delegate): to try a bundle before a Pi
    "x86_64": {"arch": "x86_64", "cpu": "any x86-64", "board": "64-bit x86 Linux", "dotprod": False},
}
KERNELS = ("auto", "scalar", "neon", "dot")
DEVICE_DELEGATES = ("auto", "neon", "xnnpack")
MAX_THREADS = 64  # what the delegate accepts (delegates/neon delegate_options)


def threads(name: str, value) -> int:
    """1..64 threads: a whole number (bool refused), at most what the delegate takes."""
    n = check.whole(name, value, 1, f"--{name.replace('_', '-')} 4")
    if n > MAX_THREADS:
        raise InvalidArgumentError(f"{name} must be at most {MAX_THREADS}, got {value!r}",
                                   hint="the number of cores is the useful most (4 on a Pi 4/5)")
    return n


@dataclass(frozen=True)
class BundleOptions:
    """`bundle`: the board, the delegate's threads and kernel variant on the device, the self-check's seed and
    float tolerance, which delegate the device runs, whether an existing bundle is replaced, the signing key."""

    target: str = "rpi4"
    num_threads: int = 1
    kernels: str = "auto"
    seed: int = 0
    overwrite: bool = True
    device_delegate: str = "auto"
    self_check_atol: float | None = None
    sign: str | os.PathLike | None = None

    def __post_init__(self) -> None:
        check.choice("target", self.target, tuple(TARGETS))
        object.__setattr__(self, "num_threads", threads("threads", self.num_threads))
        check.choice("kernels", self.kernels, KERNELS)
        object.__setattr__(self, "seed", check.whole("seed", self.seed, 0, "seed=0"))
        check.flag("overwrite", self.overwrite)
        check.choice("device_delegate", self.device_delegate, DEVICE_DELEGATES)
        object.__setattr__(self, "self_check_atol", check_atol(self.self_check_atol))
        if self.sign is not None:
            if not isinstance(self.sign, (str, os.PathLike)) or not os.path.isfile(self.sign):
                raise ModelNotFoundError(f"signing key {str(self.sign)!r} does not exist",
                                         hint="give an OpenSSH private key, e.g. ~/.ssh/id_ed25519")
