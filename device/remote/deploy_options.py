"""`DeployOptions`: every setting of `edgelift deploy` (one device or a fleet), checked once when it is built.

The CLI and `edgelift.deploy` build one before anything is bundled or any device is reached, so a bad target,
an empty remote folder, a missing wheels folder or a NaN self-check tolerance is refused with the same line
from either. How to reach a device (host string, ssh config, key) is the `Connection`'s to check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ... import option_checks as check
from ...errors import InvalidArgumentError, ModelNotFoundError
from .bundle import TARGETS
from .bundle_delegate import check_atol
from .deploy import KEEP_RELEASES
from .device import DEFAULT_REMOTE_DIR, check_remote_dirs
from .ssh import Connection

DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class DeployOptions:
    """One of `host` ("[user@]host[:port]" or a Connection) and `hosts` (a hosts file or an Ansible INI
    inventory; `group` picks a [group]). `target`: the bundle's board when deploying a .tflite. `keep`:
    releases kept on the device. `wheels`: an offline folder for `install_runtime`."""

    host: str | Connection | None = None
    hosts: str | os.PathLike | None = None
    group: str | None = None
    target: str = "rpi4"
    remote_dir: str = DEFAULT_REMOTE_DIR
    remote_python: str | None = None
    install_runtime: bool = False
    wheels: str | os.PathLike | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    keep: int = KEEP_RELEASES
    self_check_atol: float | None = None

    def __post_init__(self) -> None:
        if (self.host is None) == (self.hosts is None):
            raise InvalidArgumentError("give exactly one of --host and --hosts (host= or hosts= from Python)",
                                       hint="--host [user@]host[:port] for one device, --hosts FILE for a fleet")
        if self.host is not None and not isinstance(self.host, (str, Connection)):
            raise InvalidArgumentError(f"host must be '[user@]host[:port]' or a Connection, got {self.host!r}",
                                       hint="e.g. --host pi@raspberrypi.local")
        if self.hosts is not None and (not isinstance(self.hosts, (str, os.PathLike)) or not str(self.hosts)):
            raise InvalidArgumentError(f"hosts must be the path of a hosts file or inventory, got {self.hosts!r}",
                                       hint="e.g. --hosts inventory.ini")
        if self.group is not None:
            if self.hosts is None:
                raise InvalidArgumentError(f"group {self.group!r} picks hosts from an inventory; no --hosts given",
                                           hint="add --hosts inventory.ini, or leave --group out")
            if not isinstance(self.group, str) or not self.group.strip():
                raise InvalidArgumentError(f"group must be an inventory group name, got {self.group!r}",
                                           hint="e.g. --group kiosks")
        check.choice("target", self.target, TARGETS)
        check_remote_dirs(self.remote_dir, self.remote_python)
        check.flag("install_runtime", self.install_runtime)
        if self.wheels is not None:
            if not isinstance(self.wheels, (str, os.PathLike)) or not os.path.isdir(self.wheels):
                raise ModelNotFoundError(f"wheels folder {str(self.wheels)!r} does not exist",
                                         hint="give a folder of aarch64 wheels (pip download --platform ...)")
            if not self.install_runtime:
                raise InvalidArgumentError("--wheels is read only with --install-runtime",
                                           hint="add --install-runtime, or leave --wheels out")
        object.__setattr__(self, "concurrency", check.whole("--concurrency", self.concurrency, 1,
                                                            "--concurrency 4"))
        object.__setattr__(self, "keep", check.whole("keep", self.keep, 1, "keep=3 keeps three releases"))
        object.__setattr__(self, "self_check_atol", check_atol(self.self_check_atol))
