"""`edgelift emulate pi4|pi5`: an emulated Raspberry Pi behind a loopback sshd, for deploys without hardware."""

from __future__ import annotations

import click


@click.command("emulate")
@click.argument("board", type=click.Choice(["pi4", "pi5"]))
@click.option("--port", type=int, default=None, help="Loopback port for sshd (default: a free one).")
@click.option("--dir", "folder", type=click.Path(file_okay=False), default=None,
              help="Folder for its keys, ssh config and the device's install folder "
                   "(default: .cache/emulated-pi/hosts/BOARD).")
def emulate(board, port, folder) -> None:
    """Start an emulated BOARD (Debian arm64 Python 3.11 + ai-edge-litert 2.3 under qemu 10) reachable over SSH;
    prints the flags for `deploy`/`run`, and stops cleanly on Ctrl-C or SIGTERM."""
    from edgelift.device.emulate import pi_host
    from edgelift.errors import RemoteError

    click.echo(f"starting the emulated {board} (the first time builds .cache/emulated-pi: about 2 minutes)", err=True)
    host = pi_host.start(board, folder=folder, port=port)
    try:
        click.echo(host.describe())
        click.echo("press Ctrl-C to stop it", err=True)
        code = pi_host.wait_for_signal(host)
    finally:
        host.stop()
    if code:
        raise RemoteError(f"sshd of the emulated {board} exited on its own", hint=f"see {host.dir / 'sshd.log'}")
    click.echo(f"stopped the emulated {board}", err=True)
