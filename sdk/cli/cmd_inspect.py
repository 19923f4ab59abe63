"""`edgelift inspect MODEL.tflite [--json]`."""

from __future__ import annotations

import json

import click


@click.command("inspect")
@click.argument("model", type=click.Path(dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print the full description as JSON.")
def inspect(model: str, as_json: bool) -> None:
    """Show ops, I/O quantization, weight sparsity and block structure, sizes and MACs of MODEL."""
    from ..inspection import format_text
    from ..inspection import inspect as inspect_model

    info = inspect_model(model)
    click.echo(json.dumps(info, indent=2) if as_json else format_text(info))
