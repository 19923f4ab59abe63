"""`edgelift bench MODEL.tflite [--delegate xnnpack,builtin,neon|PATH] [--threads N] [--runs N | --seconds S]`,
on a device with `--host H`, or on an emulated Raspberry Pi with `--emulate rpi4|rpi5` (instruction counts and
estimated cycles)."""

from __future__ import annotations

import json
import math
from typing import Any

import click

from ..errors import DelegateError, InvalidArgumentError
from .cmd_deploy import bench_host_options, remote_bench


@click.command("bench")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--delegate", "-d", "delegates", default=None,
              help="Comma-separated: xnnpack, builtin, neon, or a path to a delegate library. Several are run "
                   "interleaved, with ratios to the first (default: xnnpack here, neon,builtin,xnnpack with --host, "
                   "neon,xnnpack,builtin with --emulate).")
@click.option("--delegate-option", "delegate_options", multiple=True, metavar="KEY=VALUE",
              help="Option for neon / an external delegate library (repeatable).")
@click.option("--threads", "-t", type=int, default=1, show_default=True, help="Interpreter threads.")
@click.option("--runs", "-n", type=int, default=None, help="Timed invocations per delegate (default 50).")
@click.option("--seconds", "-s", type=float, default=None, help="Run for about this long instead of --runs.")
@click.option("--warmup", type=int, default=None,
              help="Untimed invocations per delegate first (default 5; 1 with --emulate).")
@click.option("--input", "input_path", type=click.Path(), default=None,
              help="Data (.npz with x, .npy, or an image folder); default random inputs of the right dtype.")
@click.option("--runtime", type=click.Choice(["litert", "tflite_runtime", "ai-edge-litert", "tflite-runtime"]),
              default=None, help="TFLite runtime (default: the first installed; with --emulate, the Pi's: "
                                 "tflite-runtime 2.14 or ai-edge-litert 1.4).")
@click.option("--emulate", type=click.Choice(["rpi4", "rpi5"]), default=None,
              help="Count instructions and ESTIMATE cycles per inference on an emulated Raspberry Pi 4 (Cortex-A72) "
                   "or 5 (Cortex-A76) instead of timing here (default delegates there: neon,xnnpack,builtin).")
@click.option("--per-op", is_flag=True,
              help="Also time every op in isolation (a one-op model each) on every delegate.")
@click.option("--report", type=click.Path(dir_okay=False), default=None, help="Write a self-contained HTML report.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (schema edgelift.bench/1).")
@bench_host_options
def bench(model, delegates, delegate_options, threads, runs, seconds, warmup, input_path, runtime, emulate, per_op,
          report, as_json, host=None, **remote) -> None:
    """Measure the latency of MODEL on one or more delegates, side by side (on a device with --host, or the
    estimated cost on an emulated Raspberry Pi with --emulate)."""
    from edgelift.device.bench_options import BenchOptions
    from edgelift.device.checking.bench import bench as run_bench

    if emulate is not None and host is not None:
        raise InvalidArgumentError(f"--emulate {emulate} and --host {host} measure in different places",
                                   hint="--host times a real device; --emulate estimates one without hardware")
    if emulate is None and runtime in ("ai-edge-litert", "tflite-runtime"):
        runtime = {"ai-edge-litert": "litert", "tflite-runtime": "tflite_runtime"}[runtime]
    options = BenchOptions(delegates=delegates, threads=threads, runs=runs, seconds=seconds, warmup=warmup,
                           delegate_options=delegate_option_pairs(delegate_options), runtime=runtime, report=report,
                           per_op=per_op, emulate=emulate, on_device=host is not None)
    if host is not None:
        return remote_bench(model, host, options, as_json, input_path=input_path, **remote)

    result = run_bench(model, inputs=input_path, options=options)
    if as_json:
        click.echo(dump_json(result.as_dict()))
    else:
        click.echo(result.format())
        if report:
            click.echo(f"report   {report}")
    failed = getattr(result, "errors", None)
    if failed:  # the others were measured and printed; the command still fails
        raise DelegateError(f"{len(failed)} delegate(s) failed on the emulated Pi: {', '.join(failed)}",
                            hint="each one's reason is in its row above")
    failed = [f["delegate"] for f in getattr(result, "failed", None) or []]
    if failed:
        raise DelegateError(f"{len(failed)} of {len(failed) + len(result.configs)} delegates could not load the "
                            f"model: {', '.join(failed)} (the others were measured above)",
                            hint="each one's reason is in its FAILED row above")


def delegate_option_pairs(pairs: tuple[str, ...] | list[str]) -> dict[str, str] | None:
    """('kernels=scalar', 'num_threads=2') -> {'kernels': 'scalar', 'num_threads': '2'}."""
    out: dict[str, str] = {}
    for p in pairs or ():
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise InvalidArgumentError(f"delegate option {p!r} is not KEY=VALUE",
                                       hint="e.g. --delegate-option kernels=scalar")
        out[key.strip()] = value.strip()
    return out or None


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def dump_json(obj: Any) -> str:
    """Strict JSON: non-finite floats (an SNR of identical outputs) become the strings 'inf', '-inf', 'nan'."""
    return json.dumps(_finite(obj), indent=2, allow_nan=False, default=str)
