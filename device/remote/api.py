"""The public face of the remote side: `edgelift.deploy`, `rollback`, `device_info`, `run_remote`,
`bench_remote`. Each takes a host string (with the ssh keywords) or a `Connection`; here, and only here, a
host string becomes a Connection (edgelift.device.remote.ssh.connection_for), so everything below takes one.
`deploy` with ``hosts=`` hands over to edgelift.device.remote.fleet, which calls deploy_bundle; deploy.py never
imports the fleet."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from ... import option_checks as check
from ...errors import InvalidArgumentError
from ..bench_options import BenchOptions
from .command_options import RunOptions
from .commands import bench_at, describe_device, read_input_bytes, run_on, trust_on
from .deploy import DeployResult, deploy_bundle, prepare_bundle, rollback_device
from .deploy_options import DeployOptions
from .device import DEFAULT_REMOTE_DIR, _q, make_device
from .signing import allowed_signers_line
from .ssh import Connection, SSHError, connection_for


def deploy(model_or_bundle: str | os.PathLike, host: str | Connection | None = None, *,
           options: DeployOptions | None = None, ssh_config=None, identity=None, accept_new_host_key: bool = False,
           progress: Callable[[str], None] | None = None, **settings):
    """Install a model (.tflite, bundled on the fly for `target`) or a bundle folder on a device.

    Settings are a `DeployOptions` or its fields as keywords (hosts, group, target, remote_dir, remote_python,
    install_runtime, wheels, concurrency, keep, self_check_atol), all checked before any work starts.
    One device: ``host="[user@]host[:port]"`` or a Connection → DeployResult (raises RemoteError naming the
    failed step).
    A fleet: ``hosts=FILE`` (one host per line, or an Ansible INI inventory; ``group`` picks a [group]) →
    FleetResult (never raises for one device's failure; see ``.ok``).
    """
    if options is None:
        options = DeployOptions(host=host, **settings)
    elif settings or host is not None:
        raise InvalidArgumentError(f"give options or host/keywords, not both (keywords {sorted(settings)})",
                                   hint="set them on the DeployOptions instead")
    elif not isinstance(options, DeployOptions):
        raise InvalidArgumentError(f"options must be a DeployOptions, got {type(options).__name__}",
                                   hint="edgelift.device.remote.deploy_options.DeployOptions(host=...)")
    o = options
    ssh = dict(ssh_config=ssh_config, identity=identity, accept_new_host_key=accept_new_host_key)
    # every argument is checked before any work (bundling, connecting) starts
    if o.hosts is not None:
        from .fleet import deploy_fleet, read_hosts

        fleet = read_hosts(o.hosts, o.group)
        connection = connection_for(fleet[0].target, **ssh)  # the canary's; the others share its settings
        device = None
    else:
        device = make_device(connection_for(o.host, **ssh), remote_dir=o.remote_dir, remote_python=o.remote_python)
    with tempfile.TemporaryDirectory(prefix="edgelift-deploy-") as work:
        local, manifest = prepare_bundle(model_or_bundle, o.target, work, o.self_check_atol)
        if device is None:
            return deploy_fleet(local, manifest, fleet, connection=connection, remote_dir=o.remote_dir,
                                remote_python=o.remote_python, concurrency=o.concurrency, keep=o.keep,
                                install_runtime=o.install_runtime, wheels=o.wheels, progress=progress)
        return deploy_bundle(device, local, manifest, install_runtime=o.install_runtime, wheels=o.wheels,
                             keep=o.keep, progress=progress)



def rollback(host: str | Connection, *, ssh_config=None, identity=None, accept_new_host_key: bool = False,
             remote_dir: str = DEFAULT_REMOTE_DIR, remote_python: str | None = None) -> DeployResult:
    """Switch `current` back to `previous` (and `previous` to what was current), after re-verifying it."""
    connection = connection_for(host, ssh_config=ssh_config, identity=identity,
                                accept_new_host_key=accept_new_host_key)
    return rollback_device(make_device(connection, remote_dir=remote_dir, remote_python=remote_python))


def device_info(host: str | Connection, *, ssh_config=None, identity=None, accept_new_host_key: bool = False,
                remote_dir: str = DEFAULT_REMOTE_DIR, remote_python: str | None = None) -> dict[str, Any]:
    """The device's CPU, NEON/dot product, governor, temperature, throttling, Python, runtimes, memory, disk,
    and what edgelift has installed there (current/previous release)."""
    connection = connection_for(host, ssh_config=ssh_config, identity=identity,
                                accept_new_host_key=accept_new_host_key)
    return describe_device(make_device(connection, remote_dir=remote_dir, remote_python=remote_python))


def run_remote(host: str | Connection, inputs, *, delegate: str | None = None, threads: int = 1, ssh_config=None,
               identity=None, accept_new_host_key: bool = False, remote_dir: str = DEFAULT_REMOTE_DIR,
               remote_python: str | None = None, options: RunOptions | None = None) -> tuple[list, dict[str, Any]]:
    """Run the deployed model (`current`) on the device: inputs (array, list of arrays, or .npy/.npz path)
    → (outputs as numpy arrays, result metadata: runtime, delegate, partition, latency_ms).
    `options`: a RunOptions (checked once, as `edgelift run` builds it) instead of delegate / threads."""
    if options is None:
        o = RunOptions(delegate=delegate, threads=threads)
    elif (delegate, threads) != (None, 1) or not isinstance(options, RunOptions):
        raise InvalidArgumentError(f"give a RunOptions or delegate/threads, not both (options {options!r})",
                                   hint="put delegate and threads in the RunOptions")
    else:
        o = options
    connection = connection_for(host, ssh_config=ssh_config, identity=identity,
                                accept_new_host_key=accept_new_host_key)
    device = make_device(connection, remote_dir=remote_dir, remote_python=remote_python)  # checks; connects not
    data = read_input_bytes(inputs)
    return run_on(device, data, delegate=o.delegate, threads=o.threads)


def bench_remote(host: str | Connection, model_or_bundle: str | os.PathLike | None = None, *, target: str = "rpi4",
                 delegates: str | None = None, runs: int | None = None, warmup: int | None = None,
                 threads: int = 1, options: BenchOptions | None = None, ssh_config=None, identity=None,
                 accept_new_host_key: bool = False, remote_dir: str = DEFAULT_REMOTE_DIR,
                 remote_python: str | None = None, max_seconds: float = 120.0) -> dict[str, Any]:
    """Latency per delegate measured on the device, with its conditions before/after (a warning when throttled).

    With `model_or_bundle` the model is uploaded to a scratch folder (not installed); without, `current` is
    measured. `options` (a BenchOptions with on_device=True) or delegates / runs / warmup / threads (defaults
    neon,builtin,xnnpack / 50 / 5 / 1), checked before connecting.
    """
    if options is None:
        options = BenchOptions(delegates=delegates, runs=runs, warmup=warmup, threads=threads, on_device=True)
    elif not (isinstance(options, BenchOptions) and options.on_device):
        raise InvalidArgumentError(f"options must be a BenchOptions with on_device=True, got {options!r}",
                                   hint="BenchOptions(..., on_device=True)")
    elif (delegates, runs, warmup, threads) != (None, None, None, 1):
        raise InvalidArgumentError("give options or delegates/runs/warmup/threads, not both",
                                   hint="set them on the BenchOptions instead")
    max_seconds = check.finite("max_seconds", max_seconds, 0.0, inclusive=False, example="max_seconds=120")
    connection = connection_for(host, ssh_config=ssh_config, identity=identity,
                                accept_new_host_key=accept_new_host_key)
    device = make_device(connection, remote_dir=remote_dir, remote_python=remote_python)
    args = ["bench", "--delegates", ",".join(options.delegates), "--runs", str(options.runs),
            "--warmup", str(options.warmup), "--threads", str(options.threads), "--max-seconds", str(max_seconds)]
    if model_or_bundle is None:
        where = device.path("current")
        return bench_at(device, where, args)
    with tempfile.TemporaryDirectory(prefix="edgelift-bench-") as work:
        local, manifest = prepare_bundle(model_or_bundle, target, work)
        state = device.state("connect")
        device.check_python(state)
        scratch = device.path("staging", f"bench-{manifest['bundle_id']}-{os.getpid()}")
        try:
            device.connection.upload_tree(local, scratch, timeout=600)
        except SSHError as exc:
            raise device.failure("upload", str(exc)) from None
        try:
            return bench_at(device, scratch, args)
        finally:
            device.connection.run(f"rm -rf -- {_q(scratch)}", check=False, timeout=30)


def trust_signer(host: str | Connection, public_key: str | os.PathLike, principal: str, *, ssh_config=None,
                 identity=None, accept_new_host_key: bool = False, remote_dir: str = DEFAULT_REMOTE_DIR,
                 remote_python: str | None = None) -> str:
    """Add `public_key` to the device's allowed_signers (created if needed): from then on the device accepts only
    bundles signed by a listed key. Returns 'added' or 'already trusted'."""
    line = allowed_signers_line(public_key, principal)  # checked before connecting
    connection = connection_for(host, ssh_config=ssh_config, identity=identity,
                                accept_new_host_key=accept_new_host_key)
    return trust_on(make_device(connection, remote_dir=remote_dir, remote_python=remote_python), line)


__all__ = ["bench_remote", "deploy", "device_info", "rollback", "run_remote", "trust_signer"]
