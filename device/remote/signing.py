"""Signed bundles, with the tool every Pi already has: `ssh-keygen -Y sign` on the desktop, `-Y verify` on the
device against an allowed-signers file.

    edgelift bundle model.tflite -o m.bundle --sign ~/.ssh/id_ed25519       # writes manifest.json.sig
    edgelift device trust --host pi ~/.ssh/id_ed25519.pub --principal ci     # the device now requires it

The signature covers manifest.json, and the manifest holds every file's sha256, so it covers the bundle. A device
with `<install dir>/allowed_signers` refuses any bundle not signed by a key listed there (the agent checks, at
verify, before anything runs: an edited agent with updated checksums no longer deploys); a device without one
takes signed and unsigned bundles alike. The check itself lives in the agent (edgelift_agent.check_signature).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ...errors import InvalidArgumentError, ModelNotFoundError, ToolUnavailableError

NAMESPACE = "edgelift-bundle"
SIGNATURE = "manifest.json.sig"
ALLOWED_SIGNERS = "allowed_signers"
PRINCIPAL = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")


def _ssh_keygen() -> str:
    tool = shutil.which("ssh-keygen")
    if tool is None:
        raise ToolUnavailableError("ssh-keygen is not installed (it signs and verifies bundles)",
                                   hint="install OpenSSH's client (Debian: openssh-client)")
    return tool


def sign_manifest(bundle_dir: Path, key: str | os.PathLike) -> Path:
    """Sign bundle_dir/manifest.json with the private key `key`; returns the signature's path."""
    key = Path(key)
    if not key.is_file():
        raise ModelNotFoundError(f"signing key {str(key)!r} does not exist",
                                 hint="give an OpenSSH private key, e.g. ~/.ssh/id_ed25519 (ssh-keygen -t ed25519)")
    manifest = bundle_dir / "manifest.json"
    proc = subprocess.run([_ssh_keygen(), "-Y", "sign", "-q", "-f", str(key), "-n", NAMESPACE, str(manifest)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    sig = bundle_dir / SIGNATURE
    if proc.returncode != 0 or not sig.is_file():
        why = (proc.stderr.strip().splitlines() or ["no signature written"])[-1]
        raise InvalidArgumentError(f"cannot sign with {str(key)!r}: {why}",
                                   hint="give an unencrypted OpenSSH private key, or load it into ssh-agent")
    return sig


def allowed_signers_line(public_key: str | os.PathLike, principal: str) -> str:
    """One allowed_signers entry for `public_key` (a .pub file), limited to bundle signatures."""
    if not PRINCIPAL.match(principal):
        raise InvalidArgumentError(f"principal {principal!r} is not 1-64 letters, digits or ._@+-",
                                   hint="e.g. --principal ci@example.com")
    path = Path(public_key)
    if not path.is_file():
        raise ModelNotFoundError(f"public key {str(path)!r} does not exist", hint="give the .pub file of the key")
    fields = path.read_text(encoding="utf-8", errors="replace").split()
    if len(fields) < 2 or not fields[0].startswith(("ssh-", "ecdsa-", "sk-")) or not re.match(r"^[A-Za-z0-9+/=]+$",
                                                                                            fields[1]):
        raise InvalidArgumentError(f"{str(path)!r} is not an OpenSSH public key (expected 'ssh-ed25519 AAAA...')",
                                   hint="give the .pub file, not the private key")
    return f'{principal} namespaces="{NAMESPACE}" {fields[0]} {fields[1]}'
