"""`edgelift validate MODEL.tflite [--delegate D] (--reference REF | --reference-delegate D) [--data DATA]`."""

from __future__ import annotations

import click

from .cmd_bench import delegate_option_pairs, dump_json


@click.command("validate")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--reference", "-r", default=None,
              help="Keras model (.keras, .h5, SavedModel folder) or a .tflite (float, or the same model).")
@click.option("--reference-delegate", default=None,
              help="Delegate for a .tflite reference; alone, compares MODEL with itself on that delegate.")
@click.option("--delegate", "-d", default="builtin", show_default=True,
              help="Delegate for MODEL: builtin, xnnpack, neon, or a path to a delegate library.")
@click.option("--delegate-option", "delegate_options", multiple=True, metavar="KEY=VALUE",
              help="Option for neon / an external delegate library given as --delegate (repeatable).")
@click.option("--data", type=click.Path(), default=None,
              help="Data: .npz (x, optional y labels), .npy, or an image folder. Default: random inputs.")
@click.option("--samples", type=int, default=None, help="Use at most N samples (random inputs: N, default 100).")
@click.option("--atol", type=float, default=None, help="Fail when any output's max abs error exceeds this.")
@click.option("--min-agreement", default=None, help="Fail when top-1 agreement is below this (0.99 or 99%).")
@click.option("--max-accuracy-drop", default=None,
              help="Fail when accuracy drops more than this below the reference's (0.01 or 1%; needs labels).")
@click.option("--exact", is_flag=True, help="Compare raw integer outputs bit for bit (fails on any difference).")
@click.option("--max-lsb", type=int, default=0, show_default=True, help="With --exact: allowed difference in LSB.")
@click.option("--per-layer", is_flag=True, help="Rank the layers of a quantized model by the error each adds.")
@click.option("--layer-threshold", type=float, default=None,
              help="Relative RMS error at which a layer counts as broken (default 0.1).")
@click.option("--threads", "-t", type=int, default=1, show_default=True)
@click.option("--backend", type=click.Choice(["litert", "gpu", "litert-gpu"]), default="litert", show_default=True,
              help="litert: a TFLite runtime; gpu: the exact-integer XLA path (CUDA or CPU); litert-gpu: a float "
                   "model on LiteRT's GPU accelerator (Vulkan).")
@click.option("--batch", type=int, default=32, show_default=True,
              help="With --backend gpu: samples per jit-compiled batch.")
@click.option("--runtime", type=click.Choice(["litert", "tflite_runtime"]), default=None)
@click.option("--report", type=click.Path(dir_okay=False), default=None, help="Write a self-contained HTML report.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (schema edgelift.validate/1).")
def validate(model, reference, reference_delegate, delegate, delegate_options, data, samples, atol, min_agreement,
             max_accuracy_drop, exact, max_lsb, per_layer, layer_threshold, threads, backend, batch, runtime,
             report, as_json) -> None:
    """Compare MODEL with a reference; exit 1 when a threshold is missed."""
    from edgelift.device.checking.validate import validate as run_validate
    from edgelift.device.checking.validate_options import ValidateOptions
    from edgelift.errors import ThresholdError

    options = ValidateOptions(
        delegate=delegate, reference_delegate=reference_delegate,
        delegate_options=delegate_option_pairs(delegate_options), samples=samples, atol=atol,
        min_agreement=min_agreement, max_accuracy_drop=max_accuracy_drop, exact=exact, max_lsb=max_lsb,
        per_layer=per_layer, layer_threshold=layer_threshold, report=report, threads=threads, backend=backend,
        runtime=runtime, batch=batch)
    try:
        result = run_validate(model, reference=reference, data=data, options=options)
    except ThresholdError as exc:
        result = exc.result
        click.echo(dump_json(result.as_dict()) if as_json else result.format())
        if report and not as_json:
            click.echo(f"report     {report}")
        raise
    click.echo(dump_json(result.as_dict()) if as_json else result.format())
    if report and not as_json:
        click.echo(f"report     {report}")
