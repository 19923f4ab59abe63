"""`RunOptions`: the settings of `edgelift run` (CLI, `run_remote` and the edgelift.pi run action alike), checked
once through `edgelift.option_checks` before the device is reached.

`rollback` and `device info` take only where edgelift lives on the device, which `make_device` checks for every
command (`device.check_remote_dirs`); `bundle`'s settings are `BundleOptions`. How to reach the device (host,
ssh config, key) is the `Connection`'s to check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ... import option_checks as check
from .bundle_options import threads

RUN_DELEGATES = ("neon", "builtin", "xnnpack")


@dataclass(frozen=True)
class RunOptions:
    """`run`: the delegate (None: the one the bundle's self-check validated), threads, and the local output file
    (.npy for one output, .npz for any number), which must be writable and not the input."""

    delegate: str | None = None
    threads: int = 1
    input: str | os.PathLike | None = None
    output: str | os.PathLike | None = None

    def __post_init__(self) -> None:
        check.choice("delegate", self.delegate, (None, *RUN_DELEGATES))
        object.__setattr__(self, "threads", threads("threads", self.threads))
        if self.output is not None:
            from ...atomic import check_outputs

            out = check.output_path("output", self.output)
            check_outputs({"output": out}, {"input": self.input})
            object.__setattr__(self, "output", out)
