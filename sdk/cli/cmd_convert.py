"""`edgelift convert`: parse flags, call `edgelift.convert`, print what was produced."""

from __future__ import annotations

import warnings

import click


@click.command("convert")
@click.argument("model", required=False)
@click.option("-o", "--output", help="Output .tflite path (written atomically).")
@click.option("--recipe", help="YAML or TOML file with the pipeline; flags given here override it.")
@click.option("--prune", type=float, help="Target weight sparsity in [0, 1), e.g. 0.75.")
@click.option("--prune-kind", type=click.Choice(["unstructured", "2:4", "block"]),
              help="Sparsity pattern [default: unstructured].")
@click.option("--block", help="Block shape RxC for --prune-kind block: R output x C input channels "
              "[default: 1x4, or the --target's kernel block, 16x4].")
@click.option("--target", help="Board the pruning is shaped for, rpi4 or rpi5: --prune-kind block defaults to its "
              "sparse kernel's block; the report predicts the layers that run sparse there [default: both boards].")
@click.option("--prune-layers", help="Comma-separated layer names or types to prune (default: all supported); "
              "NAME=S gives that layer its own sparsity (0: dense), e.g. conv2=0.5,conv3.")
@click.option("--keep-dense", help="Comma-separated layer names or types left dense, or 'none' "
              "(default: the first conv and the final classifier).")
@click.option("--cluster", type=int, help="Cluster each kernel into N shared values (keeps --prune zeros).")
@click.option("--quantize", type=click.Choice(["none", "dynamic", "float16", "int8", "int16x8"]),
              help="Quantization [default: int8].")
@click.option("--io", type=click.Choice(["int8", "float32"]), help="Input/output dtype for int8 [default: int8].")
@click.option("--per-channel/--per-tensor", default=None, help="Weight scales per channel [default: per-channel].")
@click.option("--calibration", help="Representative inputs: .npz (x), .npy, or an image folder.")
@click.option("--calibration-samples", type=int, help="Calibration samples to use [default: 100].")
@click.option("--qat", is_flag=True, default=None, help="Quantization-aware training (needs --train-data).")
@click.option("--train-data", help="Labelled data (.npz x, y or image folder) to fine-tune after each step; "
              "with --distill labels are optional (.npz without y, a flat image folder).")
@click.option("--epochs", type=int, help="Fine-tuning epochs [default: 2].")
@click.option("--batch-size", type=int, help="Fine-tuning batch size [default: 32].")
@click.option("--eval-data", help="Data to measure float vs .tflite accuracy on (labels give accuracy).")
@click.option("--report", help="Write the JSON report here.")
@click.option("--equalize", is_flag=True, default=None,
              help="Cross-layer equalization: move outlier channels' scale into the next layer (exact in float).")
@click.option("--bias-correction", is_flag=True, default=None,
              help="Cancel the mean output shift of int8 weight rounding per channel (needs --calibration).")
@click.option("--distill", is_flag=True, default=None,
              help="Fine-tune (--prune/--cluster/--qat) against a teacher's soft outputs (knowledge distillation).")
@click.option("--teacher", help="Teacher Keras model for --distill [default: the input model, before pruning].")
@click.option("--temperature", type=float, help="Softmax temperature of --distill, > 0 [default: 2].")
@click.option("--distill-alpha", type=float, help="Weight of the teacher's loss in [0, 1]; the rest is the "
              "labels' [default: 0.5; 1 when the training data has no labels].")
@click.option("--max-accuracy-drop", help="Search each layer's precision (int8 / int16x8 / float, equalization) "
              "for the smallest model whose accuracy on labelled --eval-data drops at most this: 0.005 or 0.5%.")
@click.option("--max-error", help="As --max-accuracy-drop, with the budget a max |output - float model| on --eval-data "
              "(or the calibration data): no labels needed.")
@click.option("--search-budget", help="Minutes the precision search may take [default: 10].")
@click.option("--search-cost", is_flag=True, default=None, help="Estimate the Pi 4 cost of the all-int8 start and "
              "the chosen variant with the cost meter (qemu; about 40 s each).")
def convert(model, output, recipe, **settings):
    """Prune, cluster and quantize a Keras MODEL (.keras, .h5, SavedModel dir) into a .tflite, or quantize a
    float MODEL.tflite (MediaPipe, PyTorch exports) with ai-edge-quantizer; per-layer modes: recipe `layers:`."""
    from edgelift.converters.convert_options import ConvertOptions
    from edgelift.converters.pipeline import convert as run
    from edgelift.converters.warn import ConvertWarning

    options = ConvertOptions.build(model, output, recipe=recipe, **settings)  # every value checked, no work yet
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvertWarning)
        result = run(options=options)
    for w in caught:
        if issubclass(w.category, ConvertWarning):
            click.echo(f"warning: {w.message}", err=True)
    click.echo(result.summary())
