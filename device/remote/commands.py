"""What the agent does on a device without installing anything: describe it, run the deployed model, bench
a model there; and the text those results print as."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any

from ...errors import DataError, ModelNotFoundError
from .bundle import AGENT_PATH
from .device import Device, _q
from .signing import ALLOWED_SIGNERS


def describe_device(device: Device) -> dict[str, Any]:
    """`device_info` on a Device already made."""
    state = device.state("connect")
    device.check_python(state)
    info = device.agent("info", "-", ["info", "--dir", device.base], stdin_script=True)
    info.pop("stderr", None)
    info.update(host=str(device.target), current=state.get("current"), previous=state.get("previous"),
                remote_dir=device.remote_dir)
    return info


def format_info(info: dict[str, Any]) -> str:
    cpu, cond, rt = info["cpu"], info["conditions"], info["runtimes"]

    def size(n):
        return f"{n / 2**30:.1f} GiB" if n is not None else "unknown"

    thr = cond.get("throttled")
    if thr is None:
        throttle = "unknown (no vcgencmd)"
    else:
        throttle = (", ".join(thr["now"]) or "no") + (f"; since boot: {', '.join(thr['since_boot'])}"
                                                      if thr["since_boot"] else "") + f" ({thr['raw']})"
    runtimes = ", ".join(f"{k} {v}" for k, v in rt.items() if v) or "none"
    lines = [
        f"host         {info['host']}",
        f"board        {cpu.get('board') or 'unknown'}",
        f"cpu          {cpu.get('cpu') or 'unknown'} x {cpu.get('cores')} ({cpu.get('machine')})",
        f"neon         {'yes' if cpu.get('neon') else 'no'}; dot product: {'yes' if cpu.get('dotprod') else 'no'}",
        f"governor     {cond.get('governor') or 'unknown'}"
        + (f" ({cond['cpu_mhz']} MHz)" if cond.get("cpu_mhz") else ""),
        f"temperature  {cond['temperature_c']:.1f} C" if cond.get("temperature_c") is not None
        else "temperature  unknown",
        f"throttled    {throttle}",
        f"python       {info['python']} ({info['python_executable']})",
        f"runtimes     {runtimes}",
        f"memory       {size(cond.get('mem_available_bytes'))} available of {size(cond.get('mem_total_bytes'))}",
        f"disk         {size(cond.get('disk_free_bytes'))} free",
        f"deployed     {info.get('current') or 'nothing'}"
        + (f" (previous: {info['previous']})" if info.get("previous") else ""),
    ]
    integrity = info.get("integrity")
    if integrity is not None:
        lines.append(f"integrity    {'ok' if integrity['ok'] else 'FAILED'}: {integrity['message']}"
                     + ("" if integrity["ok"] else " — deploy again (and check the SD card if it repeats)"))
    if not any(rt.get(k) for k in ("tflite-runtime", "ai-edge-litert")):
        lines.append(f"no TFLite runtime: {info.get('install_hint')}")
    return "\n".join(lines)


def read_input_bytes(inputs) -> bytes:
    import numpy as np

    if isinstance(inputs, (str, os.PathLike)):
        path = Path(inputs)
        if not path.is_file():
            raise ModelNotFoundError(f"input file {str(path)!r} does not exist", hint="give a .npy or .npz file")
        data = path.read_bytes()
        if not (data[:6] == b"\x93NUMPY" or data[:2] == b"PK"):
            raise DataError(f"input {str(path)!r} is not a .npy or .npz file",
                            hint="save the array with numpy.save (one input) or numpy.savez (several)")
        return data
    arrays = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    buf = io.BytesIO()
    if len(arrays) == 1:
        np.save(buf, np.asarray(arrays[0]), allow_pickle=False)
    else:
        np.savez(buf, *[np.asarray(a) for a in arrays])
    return buf.getvalue()


def run_on(device: Device, data: bytes, *, delegate: str | None = None,
           threads: int = 1) -> tuple[list, dict[str, Any]]:
    """`run_remote` on a Device already made, with the input as .npy/.npz bytes."""
    import numpy as np

    cur = device.path("current")
    result = device.agent("run", f"{cur}/{AGENT_PATH}",
                          ["run", "--bundle", cur, *(["--delegate", delegate] if delegate else []),
                           "--threads", str(threads)], input=data)
    with np.load(io.BytesIO(base64.b64decode(result.pop("npz_base64"))), allow_pickle=False) as npz:
        outputs = [npz[f"arr_{i}"] for i in range(len(npz.files))]
    return outputs, result


def bench_at(device: Device, where: str, args: list[str]) -> dict[str, Any]:
    result = device.agent("bench", f"{where}/{AGENT_PATH}", [*args[:1], "--bundle", where, *args[1:]], timeout=900)
    result.pop("stderr", None)
    result["host"] = str(device.target)
    return result


def format_bench(result: dict[str, Any]) -> str:
    rows = [f"bench on {result['host']} ({result['model']}, bundle {result.get('bundle_id')})",
            f"{'delegate':<9} {'median ms':>10} {'p10 ms':>9} {'p90 ms':>9} {'runs':>5} {'vs builtin':>10}  partition"]
    for r in result["results"]:
        if "error" in r:
            rows.append(f"{r['delegate']:<9} error: {r['error']}")
            continue
        ratio = f"{r['speedup_vs_builtin']:.2f}x" if "speedup_vs_builtin" in r else "-"
        rows.append(f"{r['delegate']:<9} {r['median_ms']:>10.3f} {r['p10_ms']:>9.3f} {r['p90_ms']:>9.3f} "
                    f"{r['runs']:>5} {ratio:>10}  {r.get('partition') or r.get('xnnpack') or ''}")
    c = result["conditions_after"]
    cpu = result.get("cpu") or {}
    temp = f"{c['temperature_c']:.1f} C" if c.get("temperature_c") is not None else "unknown"
    thr = c.get("throttled")
    yes = {True: "yes", False: "no"}
    rows.append(f"device: {cpu.get('cpu') or 'unknown CPU'} x {cpu.get('cores')}, NEON {yes[bool(cpu.get('neon'))]}"
                f", dot product {yes[bool(cpu.get('dotprod'))]}; governor {c.get('governor') or 'unknown'}"
                + (f" {c['cpu_mhz']} MHz" if c.get("cpu_mhz") else "") + f", temperature {temp}, throttled "
                + ("unknown (no vcgencmd)" if thr is None else (", ".join(thr["now"]) or "no")))
    rows += [f"warning: {w}" for w in result.get("warnings", [])]
    return "\n".join(rows)


def trust_on(device: Device, line: str) -> str:
    """`trust_signer` on a Device already made: append one allowed_signers line (atomically, once)."""
    script = (
        "set -e\n"
        f"mkdir -p -- {_q(device.base)}\n"
        f"cd -- {_q(device.base)}\n"
        "line=$(cat)\n"
        f"[ -f {ALLOWED_SIGNERS} ] || : > {ALLOWED_SIGNERS}\n"
        f'if grep -qxF -- "$line" {ALLOWED_SIGNERS}; then echo "already trusted"; exit 0; fi\n'
        f'{{ cat {ALLOWED_SIGNERS}; printf "%s\\n" "$line"; }} > .{ALLOWED_SIGNERS}.new.$$\n'
        f"chmod 644 .{ALLOWED_SIGNERS}.new.$$\n"
        f"mv -f -- .{ALLOWED_SIGNERS}.new.$$ {ALLOWED_SIGNERS}\n"
        'echo "added"\n'
    )
    return device.shell("trust", script, input=line.encode() + b"\n").strip().splitlines()[-1]
