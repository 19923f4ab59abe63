"""What every edgelift.pi action shares: the device from the host's variables, edgelift's errors as task results.

The actions run on the controller and import edgelift from the controller's Python (the one running
ansible-playbook): the device is reached with edgelift's own SSH code and on-device agent, exactly as
`edgelift deploy --host` does, so there is one implementation of staging, checksums, self-check, the atomic
switch and the lock. Ansible's own connection to the host is never opened (no `gather_facts` needed).

Host variables read (task options of the same name, without the prefix, win):
ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file (ssh -i),
edgelift_remote_dir (default ~/edgelift), edgelift_remote_python or ansible_python_interpreter (the device's
Python), edgelift_ssh_config (ssh -F), edgelift_accept_new_host_key. `edgelift deploy --engine ansible` passes
its --remote-dir / --remote-python / -i as edgelift_default_remote_dir, edgelift_default_remote_python and
edgelift_identity: defaults that the inventory's own variables override, as with the built-in engine.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

CONNECTION_SPEC = {
    "remote_dir": {"type": "str"},
    "remote_python": {"type": "str"},
    "ssh_config": {"type": "path"},
    "identity": {"type": "path"},
    "accept_new_host_key": {"type": "bool"},
}


class EdgeliftAction(ActionBase):
    TRANSFERS_FILES = False
    ARGUMENT_SPEC: dict[str, Any] = {}

    def act(self, device, args: dict[str, Any], check_mode: bool) -> dict[str, Any]:
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec={**CONNECTION_SPEC, **self.ARGUMENT_SPEC})
        try:
            from edgelift.errors import EdgeliftError
        except ImportError as exc:
            result.update(failed=True, msg=f"edgelift is not importable from the controller's Python ({exc}); "
                          "install it there: pip install 'edgelift[ansible]'")
            return result
        try:
            device = self._device(args, task_vars or {})
            result.update(self.act(device, args, bool(self._task.check_mode)))
        except EdgeliftError as exc:
            step = getattr(exc, "step", None)
            text = f"{exc.message} — {exc.hint}" if exc.hint else exc.message
            result.update(msg=text, step=step, error=exc.message, hint=exc.hint)
            unreachable = step == "connect" and any(k in exc.message for k in (
                "cannot reach the device", "the ssh connection failed or was cut"))
            result["unreachable" if unreachable else "failed"] = True
        return result

    def _var(self, task_vars: dict[str, Any], *names: str):
        for name in names:
            if name in task_vars and task_vars[name] not in (None, ""):
                return self._templar.template(task_vars[name])
        return None

    def _device(self, args: dict[str, Any], task_vars: dict[str, Any]):
        from edgelift.device.remote.device import DEFAULT_REMOTE_DIR, make_device
        from edgelift.device.remote.ssh import Connection, Target
        from edgelift.errors import InvalidArgumentError

        name = task_vars.get("inventory_hostname", "")
        host = str(self._var(task_vars, "ansible_host") or name)
        user = self._var(task_vars, "ansible_user", "ansible_ssh_user")
        port = self._var(task_vars, "ansible_port", "ansible_ssh_port")
        spec = (f"{user}@" if user else "") + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
        try:  # the same rule as --host and --hosts (port range, user name, no shell characters)
            target = Target.parse(spec)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"host {name!r}: {exc.message}", hint=exc.hint) from None
        python = args.get("remote_python") or self._var(task_vars, "edgelift_remote_python")
        if python is None:
            interpreter = self._var(task_vars, "ansible_python_interpreter")
            python = None if interpreter is None or str(interpreter).startswith("auto") else str(interpreter)
        if python is None:  # the --remote-python of `edgelift deploy --engine ansible`
            python = self._var(task_vars, "edgelift_default_remote_python")
        accept = args.get("accept_new_host_key")
        if accept is None:
            accept = bool(self._var(task_vars, "edgelift_accept_new_host_key") in (True, "true", "yes", "1", "True"))
        connection = Connection(target,
                                ssh_config=args.get("ssh_config") or self._var(task_vars, "edgelift_ssh_config"),
                                identity=args.get("identity")
                                or self._var(task_vars, "ansible_ssh_private_key_file", "edgelift_identity"),
                                accept_new_host_key=accept)
        return make_device(connection,
                           remote_dir=str(args.get("remote_dir")
                                          or self._var(task_vars, "edgelift_remote_dir", "edgelift_default_remote_dir")
                                          or DEFAULT_REMOTE_DIR),
                           remote_python=python)


def local_bundle(path: str):
    """The bundle folder on the controller, verified (checksums, signature) before anything is sent."""
    from pathlib import Path

    from edgelift.device.remote.bundle import load_bundle
    from edgelift.errors import InvalidArgumentError, ModelNotFoundError

    folder = Path(path).expanduser()
    if not folder.exists():
        raise ModelNotFoundError(f"bundle {path!r} does not exist on the controller",
                                 hint="build it with `edgelift bundle MODEL.tflite -o m.bundle`")
    if not folder.is_dir():
        raise InvalidArgumentError(f"bundle {path!r} is a file; the edgelift.pi modules take a bundle folder",
                                   hint="build it once with `edgelift bundle MODEL.tflite -o m.bundle`")
    return folder.resolve(), load_bundle(folder)
