"""The `edgelift` command line: parses, calls the Python API, formats. Nothing else.

Subcommands live in their own modules and are imported only when invoked, so `edgelift --help` and the
device-side commands never pay for TensorFlow.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from ..errors import EdgeliftError

# name -> (module under edgelift.cli, attribute, one-line help shown by `edgelift --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "convert": ("cmd_convert", "convert", "Prune, cluster and quantize a Keras model into a .tflite."),
    "inspect": ("cmd_inspect", "inspect", "Show ops, tensors, sparsity, sizes and MACs of a .tflite."),
    "bench": ("cmd_bench", "bench", "Measure latency of a .tflite on one or more delegates."),
    "validate": ("cmd_validate", "validate", "Compare a .tflite with a reference; gate on thresholds."),
    "bundle": ("cmd_deploy", "bundle", "Build a self-contained bundle for a Raspberry Pi."),
    "deploy": ("cmd_deploy", "deploy", "Install a model or bundle on a device over SSH."),
    "rollback": ("cmd_deploy", "rollback", "Switch a device back to its previous version."),
    "run": ("cmd_deploy", "run", "Run the deployed model on a device with an input file."),
    "device": ("cmd_deploy", "device", "Commands about a remote device (info)."),
    "emulate": ("cmd_emulate", "emulate", "Start an emulated Raspberry Pi reachable over SSH (pi4, pi5)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        try:
            mod = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
            return None  # not built yet
        return getattr(mod, attr, None)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, _, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="edgelift")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """edgelift: take a trained Keras model to a Raspberry Pi, and prove it computes what you validated."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in argv or "-v" in argv
    if verbose:  # a global flag, wherever it is written: `edgelift convert ... --verbose` as well
        argv = ["--verbose"] + [a for a in argv if a not in ("--verbose", "-v")]
    try:
        cli.main(args=argv, prog_name="edgelift", standalone_mode=False)
    except EdgeliftError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.UsageError as exc:  # one line like every other error, not click's usage block
        cmd = exc.ctx.command_path if exc.ctx is not None else "edgelift"
        click.echo(f"error: {exc.format_message().rstrip('.')} — see `{cmd} --help`", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # a bug of ours: still one readable line unless --verbose
        if verbose:
            traceback.print_exc()
        click.echo(f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)", err=True)
        return 70
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
