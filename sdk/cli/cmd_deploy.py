"""`edgelift bundle | deploy | rollback | run | device info`: a Raspberry Pi over SSH.

    edgelift bundle model.tflite --target rpi4 -o model.bundle
    edgelift deploy model.bundle --host pi@raspberrypi.local
    edgelift run --host pi@raspberrypi.local --input x.npy -o y.npy
    edgelift device info --host pi@raspberrypi.local
    edgelift rollback --host pi@raspberrypi.local
"""

from __future__ import annotations

import json

import click

from ..device.remote.bundle import TARGETS
from ..errors import InvalidArgumentError, RemoteError


def ssh_options(f):
    """The options every remote command shares (how to reach the device, where edgelift lives on it)."""
    options = [
        click.option("--ssh-config", type=click.Path(dir_okay=False), envvar="EDGELIFT_SSH_CONFIG", default=None,
                     help="ssh config file (ssh -F); default ~/.ssh/config. Env: EDGELIFT_SSH_CONFIG."),
        click.option("--identity", "-i", type=click.Path(dir_okay=False), default=None,
                     help="Private key file (ssh -i)."),
        click.option("--accept-new-host-key", is_flag=True,
                     help="Record the key of a host seen for the first time (a changed key is still refused)."),
        click.option("--remote-dir", default="~/edgelift", show_default=True,
                     help="Where edgelift keeps releases on the device."),
        click.option("--remote-python", default=None,
                     help="The device's Python (default: <remote-dir>/venv/bin/python if present, else python3)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def self_check_atol_option(f):
    return click.option("--self-check-atol", type=float, default=None,
                        help="Absolute tolerance of float outputs in the device's self-check (default: derived "
                        "from each output's range and recorded in the manifest; int8 with our delegate is always "
                        "bit for bit).")(f)


def _remote(kwargs: dict) -> dict:
    return {k: kwargs.pop(k) for k in ("ssh_config", "identity", "accept_new_host_key", "remote_dir",
                                       "remote_python")}


@click.command("bundle")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--target", type=click.Choice(list(TARGETS)), default="rpi4", show_default=True)
@click.option("--output", "-o", type=click.Path(file_okay=False), default=None,
              help="Bundle folder (default: MODEL with .bundle). An existing bundle there is replaced.")
@click.option("--delegate-library", type=click.Path(dir_okay=False), default=None,
              help="aarch64 delegate library (default: edgelift's cross-built NEON delegate).")
@click.option("--threads", type=int, default=1, show_default=True, help="Delegate threads on the device.")
@click.option("--kernels", type=click.Choice(["auto", "scalar", "neon", "dot"]), default="auto", show_default=True,
              help="Delegate kernel variant on the device (auto: the best the CPU has).")
@click.option("--sign", "sign_key", type=click.Path(dir_okay=False), default=None,
              help="Sign the manifest with this OpenSSH private key (ssh-keygen -Y sign).")
@click.option("--device-delegate", type=click.Choice(["auto", "neon", "xnnpack"]), default="auto",
              show_default=True, help="What runs the model on the device: auto = edgelift's NEON delegate for an "
              "int8 model, the runtime's XNNPACK for a float one.")
@self_check_atol_option
def bundle(model, target, output, delegate_library, threads, kernels, sign_key, device_delegate,
           self_check_atol) -> None:
    """Build a self-contained bundle of MODEL for a Raspberry Pi."""
    from edgelift.device.remote.bundle import bundle as make_bundle

    result = make_bundle(model, target=target, output=output, delegate_library=delegate_library,
                         num_threads=threads, kernels=kernels, sign=sign_key, device_delegate=device_delegate,
                         self_check_atol=self_check_atol)
    click.echo(result.summary())


@click.command("deploy")
@click.argument("model_or_bundle", type=click.Path())
@click.option("--host", default=None, help="[user@]host[:port] (an ssh config alias works).")
@click.option("--hosts", "hosts_file", type=click.Path(dir_okay=False), default=None,
              help="A fleet: one host per line, or an Ansible INI inventory.")
@click.option("--group", default=None, help="With --hosts: only this inventory group.")
@click.option("--concurrency", type=int, default=4, show_default=True, help="With --hosts: devices at a time.")
@click.option("--target", type=click.Choice(list(TARGETS)), default="rpi4", show_default=True,
              help="When MODEL_OR_BUNDLE is a .tflite: the bundle's target.")
@click.option("--install-runtime", is_flag=True,
              help="Create <remote-dir>/venv with tflite-runtime and numpy on the device if it has none.")
@click.option("--wheels", type=click.Path(file_okay=False), default=None,
              help="With --install-runtime: install offline from this folder of aarch64 wheels.")
@click.option("--engine", type=click.Choice(["builtin", "ansible"]), default="builtin", show_default=True,
              help="With --hosts: edgelift's own fan-out, or Ansible (rolling waves, health gate, rollback).")
@click.option("--canary", type=int, default=None, help="With --engine ansible: hosts in the first wave [1].")
@click.option("--waves", default=None,
              help="With --engine ansible: the waves after the canary, percentages or host counts [25%,100%].")
@click.option("--check", "check_mode", is_flag=True,
              help="With --engine ansible: say what would be deployed where; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@self_check_atol_option
@ssh_options
def deploy(model_or_bundle, host, hosts_file, group, concurrency, target, install_runtime, wheels, engine, canary,
           waves, check_mode, as_json, self_check_atol, **kwargs) -> None:
    """Install MODEL_OR_BUNDLE on a device (or a fleet) over SSH: verified, self-checked, switched atomically."""
    from edgelift.device.remote.api import deploy as run_deploy
    from edgelift.device.remote.deploy_options import DeployOptions

    progress = None if as_json else (lambda msg: click.echo(msg, err=True))
    ansible_only = [name for name, value in (("--canary", canary), ("--waves", waves), ("--check", check_mode))
                    if value not in (None, False)]
    if engine == "builtin" and ansible_only:
        raise InvalidArgumentError(f"{', '.join(ansible_only)}: only with --engine ansible (rolling waves)",
                                   hint="add --engine ansible --hosts inventory.ini, or leave them out")
    if engine == "ansible" and hosts_file is None:
        raise InvalidArgumentError("--engine ansible deploys a fleet: give --hosts inventory.ini, not --host",
                                   hint="for one device leave --engine out")
    if engine == "ansible" and self_check_atol is not None:
        raise InvalidArgumentError("--self-check-atol is not supported with --engine ansible",
                                   hint="record it in the bundle: edgelift bundle M --self-check-atol X, "
                                        "then deploy the bundle")
    if engine == "ansible" and wheels is not None:
        raise InvalidArgumentError("--wheels is not supported with --engine ansible",
                                   hint="run the edgelift.pi.install_runtime module with wheels: DIR first")
    ssh = {k: kwargs.pop(k) for k in ("ssh_config", "identity", "accept_new_host_key")}
    options = DeployOptions(host=host, hosts=hosts_file, group=group, target=target, install_runtime=install_runtime,
                            wheels=wheels, concurrency=concurrency, self_check_atol=self_check_atol, **kwargs)
    if engine == "ansible":
        from edgelift.device.remote.rollout import DEFAULT_WAVES, rollout

        result = rollout(model_or_bundle, hosts_file, group=group, canary=1 if canary is None else canary,
                         waves=DEFAULT_WAVES if waves is None else waves, concurrency=options.concurrency,
                         install_runtime=install_runtime, check=check_mode, target=target, progress=progress,
                         remote_dir=options.remote_dir, remote_python=options.remote_python, **ssh)
        click.echo(json.dumps(result.as_dict(), indent=2, default=str) if as_json else result.table())
        if not result.ok:
            failed = ", ".join(r.host for r in result.failed)
            raise RemoteError(f"{len(result.failed)} of {len(result.results)} devices were not deployed: {failed}",
                              hint="see the table above; failed hosts were rolled back where they had switched")
        return
    result = run_deploy(model_or_bundle, options=options, progress=progress, **ssh)
    if hosts_file is None:
        click.echo(json.dumps(result.as_dict(), indent=2, default=str) if as_json else result.summary())
        return
    click.echo(json.dumps(result.as_dict(), indent=2, default=str) if as_json else result.table())
    if not result.ok:
        failed = ", ".join(r.host for r in result.failed)
        raise RemoteError(f"{len(result.failed)} of {len(result.results)} devices were not deployed: {failed}",
                          hint="see the table above; fix those devices and deploy again with --hosts")


@click.command("rollback")
@click.option("--host", required=True, help="[user@]host[:port] (an ssh config alias works).")
@ssh_options
def rollback(host, **kwargs) -> None:
    """Switch the device back to its previous version (and keep the current one as previous)."""
    from edgelift.device.remote.api import rollback as run_rollback

    result = run_rollback(host, **_remote(kwargs))
    click.echo(f"{result.host}: rolled back to {result.release} (previous: {result.previous or 'none'})")


@click.command("run")
@click.option("--host", required=True, help="[user@]host[:port] (an ssh config alias works).")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="Input .npy (or .npz with one array per input, arr_0, arr_1, ...).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
              help="Output .npy (one output) or .npz (any number).")
@click.option("--delegate", type=click.Choice(["neon", "builtin", "xnnpack"]), default=None,
              help="Default: the one the bundle's self-check validated (neon for int8, xnnpack for float).")
@click.option("--threads", type=int, default=1, show_default=True)
@ssh_options
def run(host, input_path, output, delegate, threads, **kwargs) -> None:
    """Run the model deployed on the device with an input file; write its outputs here."""
    import io
    from pathlib import Path

    import numpy as np

    from edgelift.atomic import write_bytes
    from edgelift.device.remote.api import run_remote
    from edgelift.device.remote.command_options import RunOptions

    options = RunOptions(delegate=delegate, threads=threads, input=input_path, output=output)  # before connecting
    out = Path(options.output)
    outputs, meta = run_remote(host, input_path, options=options, **_remote(kwargs))
    buf = io.BytesIO()
    if out.suffix == ".npz":
        np.savez(buf, *outputs)
    elif len(outputs) == 1:
        np.save(buf, outputs[0], allow_pickle=False)
    else:
        raise InvalidArgumentError(f"the model has {len(outputs)} outputs; {output!r} can hold one",
                                   hint="give an output file ending in .npz")
    write_bytes(out, buf.getvalue())
    shapes = ", ".join(f"{tuple(o.shape)} {o.dtype}" for o in outputs)
    click.echo(f"wrote {out} ({shapes}) from {host}: {meta['runtime']} {meta['runtime_version']}, "
               f"delegate {meta['delegate']}, {meta['latency_ms']:.2f} ms"
               + (f"; {meta['partition']}" if meta.get("partition") else ""))


@click.group("device")
def device() -> None:
    """Commands about a remote device."""


@device.command("info")
@click.option("--host", required=True, help="[user@]host[:port] (an ssh config alias works).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@ssh_options
def info(host, as_json, **kwargs) -> None:
    """CPU, NEON/dot product, governor, temperature, throttling, Python, runtimes, memory, disk, deployed version."""
    from edgelift.device.remote.api import device_info
    from edgelift.device.remote.commands import format_info

    result = device_info(host, **_remote(kwargs))
    click.echo(json.dumps(result, indent=2, default=str) if as_json else format_info(result))


@device.command("trust")
@click.argument("public_key", type=click.Path(dir_okay=False))
@click.option("--host", required=True, help="[user@]host[:port] (an ssh config alias works).")
@click.option("--principal", required=True, help="The signer's name in allowed_signers (e.g. ci@example.com).")
@ssh_options
def trust(public_key, host, principal, **kwargs) -> None:
    """Make the device accept only bundles signed by PUBLIC_KEY (or another key it already trusts)."""
    from edgelift.device.remote.api import trust_signer

    state = trust_signer(host, public_key, principal, **_remote(kwargs))
    click.echo(f"{host}: {principal} {state}; the device now deploys only bundles signed by a trusted key")


def bench_host_options(f):
    """`edgelift bench`'s options for measuring on a device (added to cmd_bench's command)."""
    f = ssh_options(f)
    f = click.option("--target", type=click.Choice(list(TARGETS)), default="rpi4", show_default=True,
                     help="With --host: the bundle target MODEL is packed for.")(f)
    return click.option("--host", default=None,
                        help="Measure on this device over SSH ([user@]host[:port]) instead of here.")(f)


def remote_bench(model, host, options, as_json, *, input_path=None, target="rpi4", **kwargs) -> None:
    """`edgelift bench MODEL --host H`: MODEL measured on the device (uploaded to a scratch folder, not installed)."""
    from edgelift.device.remote.api import bench_remote
    from edgelift.device.remote.commands import format_bench

    options.check_inputs(model, input_path)
    result = bench_remote(host, model, target=target, options=options, **kwargs)
    click.echo(json.dumps(result, indent=2, default=str) if as_json else format_bench(result))
