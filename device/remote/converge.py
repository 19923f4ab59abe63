"""Bring one device to a bundle, the way a configuration engine (Ansible) wants it: idempotent, with a dry run.

    probe(device)                                  -> current / previous / python, read only (no mkdir, no lock)
    converge(device, local, manifest, check=False) -> Converged: changed only when a new release went live
    health_gate(device, local, manifest)           -> the live release's self-check, then a `run` of the
                                                      bundle's reference input compared here with its outputs

`converge` is `deploy_bundle` (edgelift.device.remote.deploy: lock, staging, checksums, self-check, atomic
switch, previous kept) behind one question: is this bundle already live and intact? Then nothing is uploaded or
switched. Check mode answers what a deploy would do and writes nothing on the device.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import RemoteError
from .bundle import AGENT_PATH
from .deploy import KEEP_RELEASES, deploy_bundle
from .device import Device, _q


@dataclass
class Converged:
    host: str
    changed: bool
    release: str | None  # what is (or, in check mode, stays) live; None when a check-mode deploy would create it
    previous: str | None
    bundle_id: str
    runtime: str | None = None  # "tflite_runtime 2.14.0"
    partition: str | None = None
    reason: str = ""
    check: dict[str, Any] = field(default_factory=dict)

    def facts(self) -> dict[str, Any]:
        return {"edgelift_release": self.release, "edgelift_previous": self.previous,
                "edgelift_bundle_id": self.bundle_id, "edgelift_runtime": self.runtime,
                "edgelift_partition": self.partition}


def probe(device: Device) -> dict[str, str | None]:
    """current, previous (release names) and the device's Python version, changing nothing on the device."""
    script = (device.python_setup()
              + f"echo current=$(readlink {_q(device.path('current'))} 2>/dev/null || true)\n"
              + f"echo previous=$(readlink {_q(device.path('previous'))} 2>/dev/null || true)\n"
              + 'echo python=$("$PY" -c "import sys; print(\'%d.%d.%d\' % sys.version_info[:3])" 2>/dev/null'
              + " || echo missing)\n")
    state: dict[str, str | None] = {}
    for line in device.shell("connect", script, timeout=120).splitlines():
        key, _, value = line.partition("=")
        if key in ("current", "previous", "python"):
            value = value.strip()
            state[key] = value.rsplit("/", 1)[-1] if value and key != "python" else (value or None)
    return state


def live_check(device: Device, current: str | None) -> dict[str, Any]:
    """The agent's `check` (checksums + self-check on the reference input) on the live release."""
    cur = device.path("current")
    return device.agent("self-check", f"{cur}/{AGENT_PATH}", ["check", "--bundle", cur], current=current)


def _runtime(check: dict[str, Any]) -> str | None:
    return " ".join(str(check[k]) for k in ("runtime", "runtime_version") if check.get(k)) or None


def converge(device: Device, local: Path, manifest: dict[str, Any], *, check_mode: bool = False,
             keep: int = KEEP_RELEASES, install_runtime: bool = False, wheels=None,
             progress: Callable[[str], None] | None = None) -> Converged:
    bundle_id = manifest["bundle_id"]
    state = probe(device)
    current, previous = state.get("current"), state.get("previous")
    if current and current.endswith(f"-{bundle_id}"):
        try:
            check = live_check(device, current)
        except RemoteError as exc:
            # the live copy is damaged (a byte rotted, a file gone): a fresh release repairs it
            why = f"{current} is live but fails its check ({exc.message.split('failed: ', 1)[-1]}); redeploying"
        else:
            return Converged(host=str(device.target), changed=False, release=current, previous=previous,
                             bundle_id=bundle_id, runtime=_runtime(check), partition=check.get("partition"),
                             reason=f"bundle {bundle_id} is already live ({current}) and passes its self-check",
                             check=check)
    else:
        why = f"bundle {bundle_id} is not live (current: {current or 'none'})"
    if check_mode:
        device.check_python(state)
        return Converged(host=str(device.target), changed=True, release=None, previous=current, bundle_id=bundle_id,
                         reason=why + "; check mode: a deploy would make it live, nothing was changed")
    result = deploy_bundle(device, local, manifest, install_runtime=install_runtime, wheels=wheels, keep=keep,
                           progress=progress)
    return Converged(host=str(device.target), changed=True, release=result.release, previous=result.previous,
                     bundle_id=bundle_id, runtime=_runtime(result.check), partition=result.check.get("partition"),
                     reason=why + f"; deployed {result.release} in {result.seconds:.1f} s", check=result.check)


def health_gate(device: Device, local: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Is the live release healthy? Its self-check on the device, then a `run` (the path clients use) of the
    bundle's reference input, compared here with the bundle's reference outputs (bit for bit for integers).
    Raises RemoteError naming what failed."""
    import numpy as np

    from .commands import read_input_bytes

    t0 = time.perf_counter()
    state = probe(device)
    current = state.get("current")
    if not current or not current.endswith(f"-{manifest['bundle_id']}"):
        raise device.failure("health", f"the live release is {current or 'none'}, not bundle "
                             f"{manifest['bundle_id']}", hint="deploy the bundle first")
    check = live_check(device, current)
    ref = manifest["reference"]
    inputs = [np.load(local / f, allow_pickle=False) for f in ref["inputs"]]
    expected = [np.load(local / f, allow_pickle=False) for f in ref["outputs"]]
    cur = device.path("current")
    meta = device.agent("health", f"{cur}/{AGENT_PATH}", ["run", "--bundle", cur],
                        input=read_input_bytes(inputs), current=current)
    with np.load(io.BytesIO(base64.b64decode(meta.pop("npz_base64"))), allow_pickle=False) as npz:
        outputs = [npz[f"arr_{i}"] for i in range(len(npz.files))]
    # the run uses the bundle's own device delegate; float bundles carry one tolerance per output
    tolerances = ref.get("tolerances") or [ref.get("tolerance", 0.0)] * len(expected)
    for i, (want, got) in enumerate(zip(expected, outputs, strict=False)):
        exact = bool(ref.get("exact"))
        same = want.shape == got.shape and want.dtype == got.dtype and (
            np.array_equal(want, got) if exact else
            bool(np.all(np.abs(want.astype(np.float64) - got.astype(np.float64)) <= tolerances[i])))
        if not same:
            bad = int(np.sum(want != got)) if want.shape == got.shape else want.size
            raise device.failure("health", f"`run` on the reference input: output {i} differs from the bundle's "
                                 f"reference ({bad} of {want.size} values)", current=current,
                                 hint="roll back this device; the runtime or delegate there computes something else")
    if len(outputs) != len(expected):
        raise device.failure("health", f"`run` returned {len(outputs)} outputs, the bundle's reference has "
                             f"{len(expected)}", current=current, hint="roll back this device")
    return {"release": current, "runtime": _runtime(check), "partition": check.get("partition"),
            "latency_ms": meta.get("latency_ms"), "seconds": time.perf_counter() - t0}


__all__ = ["Converged", "converge", "health_gate", "live_check", "probe"]
