"""`edgelift.bundle`: a self-contained folder that a Raspberry Pi can run and check without edgelift.

    DIR/
      manifest.json               sha256 + size of every other file, I/O signature, versions, reference
      model.tflite
      delegate/libedgelift_neon.so   the NEON delegate cross-built for aarch64 (integer models; a float model
                                  runs with the runtime's XNNPACK and carries none: bundle_delegate.py)
      agent/edgelift_agent.py     the on-device agent (Python 3.9+, numpy, a TFLite runtime)
      reference/input_0.npy ...   a fixed input, and the outputs the desktop computed for it with LiteRT's
      reference/output_0.npy ...  builtin kernels (BUILTIN_WITHOUT_DEFAULT_DELEGATES): the device must
                                  reproduce them with the delegate: bit for bit for an int8 model with our
                                  delegate, within a per-output tolerance recorded in the manifest otherwise

The folder is written next to its final place and renamed into it, so a failure leaves no half bundle.
Never imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import DelegateError, InvalidArgumentError, InvalidModelError, ModelNotFoundError, OutputError
from ..agent.edgelift_agent import manifest_problem
from .bundle_options import TARGETS, BundleOptions  # noqa: F401 (TARGETS: re-exported)
from .signing import SIGNATURE, sign_manifest

FORMAT = "edgelift-bundle/1"
MANIFEST = "manifest.json"
MODEL_FILE = "model.tflite"
AGENT_PATH = "agent/edgelift_agent.py"

# Raspberry Pi OS Bookworm (Python 3.11): the device-side versions edgelift is tested with (emulated Pi).
RUNTIMES_TESTED = {"python": "3.11", "tflite-runtime": "2.14.0", "ai-edge-litert": "2.3.0, 1.4.0", "numpy": "1.26.4"}


@dataclass
class BundleResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float
    size_bytes: int
    files: int = field(default=0)

    @property
    def bundle_id(self) -> str:
        return self.manifest["bundle_id"]

    def summary(self) -> str:
        ref = self.manifest["reference"]
        tols = ref.get("tolerances") or [ref["tolerance"]]
        check = "bit for bit" if ref["exact"] else (
            f"within {', '.join(f'{t:g}' for t in tols)} ({ref.get('tolerance_source', 'tolerance')})")
        return (f"bundle {self.path} ({self.files} files, {self.size_bytes / 1024:.1f} KiB, id {self.bundle_id}) "
                f"for {self.manifest['target']} in {self.seconds:.1f} s, device delegate "
                f"{self.manifest['delegate'].get('kind', 'neon')}; the device must reproduce "
                f"{len(ref['outputs'])} reference output(s) {check}"
                + ("; manifest signed" if (self.path / SIGNATURE).is_file() else ""))


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_target(target: str) -> dict[str, Any]:
    return TARGETS[BundleOptions(target=target).target]


def _reference(model_path: Path, seed: int, label: str):
    """A fixed input (seeded, over each input's full dtype range) and the desktop's builtin-kernel outputs;
    errors name `label` (the user's file, not the copy being bundled)."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from ..runtime.prechecks import check_model

    check_model(model_path.read_bytes(), label)
    try:
        interp = Interpreter(model_path=str(model_path),
                             experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise InvalidModelError(f"{label} cannot be loaded by LiteRT: {' '.join(str(exc).split())}",
                                hint="check the file with `edgelift inspect`, or convert the model again") from None
    rng = np.random.default_rng(seed)
    inputs, sig_in = [], []
    for d in interp.get_input_details():
        shape = tuple(int(s) for s in d["shape"])
        dtype = np.dtype(d["dtype"])
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            lo, hi = max(info.min, -128), min(info.max, 255)
            x = rng.integers(lo, hi + 1, size=shape).astype(dtype)
        elif dtype.kind == "f":
            x = rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
        elif dtype.kind == "b":
            x = rng.integers(0, 2, size=shape).astype(dtype)
        else:
            raise InvalidModelError(f"input {d['name']!r} has dtype {dtype}, which a bundle cannot feed",
                                    hint="bundles support int8/uint8/int16/int32/float inputs")
        interp.set_tensor(d["index"], x)
        inputs.append(x)
        sig_in.append(_signature_entry(d))
    interp.invoke()
    outputs = [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]
    sig_out = [_signature_entry(d) for d in interp.get_output_details()]
    return inputs, outputs, {"inputs": sig_in, "outputs": sig_out}


def _signature_entry(d: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    scale, zero_point = d.get("quantization", (0.0, 0))
    return {"name": d["name"], "shape": [int(s) for s in d["shape"]], "dtype": np.dtype(d["dtype"]).name,
            "scale": float(scale), "zero_point": int(zero_point)}


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def _files_below(path: Path) -> list[str]:
    """Every non-folder entry below `path` (relative POSIX paths); a symbolic link is refused."""
    found = []
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        if p.is_symlink():
            raise InvalidModelError(f"bundle {str(path)!r} holds a symbolic link {rel!r}",
                                    hint="rebuild the bundle with `edgelift bundle` (it writes plain files only)")
        if not p.is_dir():
            found.append(rel)
    return found


def load_bundle(path: str | os.PathLike, *, verify: bool = True) -> dict[str, Any]:
    """The manifest of an existing bundle folder, after checking every file's sha256 (verify=True)."""
    path = Path(path)
    manifest = _read_manifest(path)
    if manifest is None:
        raise InvalidModelError(f"{str(path)!r} is not an edgelift bundle (no valid {MANIFEST})",
                                hint="build one with `edgelift bundle MODEL.tflite -o DIR`")
    problem = manifest_problem(manifest)
    if problem:
        raise InvalidModelError(f"bundle {str(path)!r}: {MANIFEST}: {problem}",
                                hint="rebuild the bundle with `edgelift bundle`; a bundle is never edited by hand")
    on_disk = _files_below(path)
    extra = sorted(set(on_disk) - set(manifest["files"]) - {MANIFEST, SIGNATURE})
    if extra:
        raise InvalidModelError(f"bundle {str(path)!r}: {len(extra)} file(s) are not in its manifest: "
                                + ", ".join(repr(e) for e in extra[:5]),
                                hint="remove them or rebuild the bundle with `edgelift bundle` (every file "
                                "uploaded is listed and checked)")
    if verify:
        for rel, meta in manifest["files"].items():
            f = path / rel
            if not f.is_file() or sha256_file(f) != meta["sha256"]:
                raise InvalidModelError(f"bundle {str(path)!r}: file {rel!r} is missing or does not match its "
                                        "sha256 in the manifest", hint="rebuild the bundle with `edgelift bundle`")
    return manifest


def bundle(model: str | os.PathLike, target: str = "rpi4", output: str | os.PathLike | None = None, *,
           delegate_library: str | os.PathLike | None = None, num_threads: int = 1, kernels: str = "auto",
           seed: int = 0, overwrite: bool = True, sign: str | os.PathLike | None = None,
           device_delegate: str = "auto", self_check_atol: float | None = None) -> BundleResult:
    """Build a bundle for `target` from a .tflite. `output` defaults to ``<model stem>.bundle`` next to it.

    `delegate_library`: the aarch64 NEON delegate (default: `edgelift.delegates.neon.library_path("aarch64")`).
    `kernels`: the delegate's kernel variant on the device ('auto' = the best the CPU has; 'scalar', 'neon',
    'dot' to force one, e.g. to tell a kernel's fault from a runtime's).
    An existing bundle at `output` is replaced (atomically); any other non-empty folder is refused.
    `sign`: an OpenSSH private key; manifest.json is signed with it (edgelift.device.remote.signing), so a device that
    keeps an allowed_signers file accepts the bundle.
    `device_delegate`: 'auto' (edgelift's NEON delegate for an integer model, the runtime's XNNPACK for a float
    one), 'neon' or 'xnnpack'. `self_check_atol`: the absolute tolerance of every float output in the device's
    self-check (default: derived per output from its range, see bundle_delegate.py; refused for a bit-exact
    bundle).
    """
    import numpy as np

    from ... import __version__
    from ...delegates import neon
    from ..agent import AGENT_FILE
    from . import bundle_delegate

    start = time.perf_counter()
    o = BundleOptions(target=target, num_threads=num_threads, kernels=kernels, seed=seed, overwrite=overwrite,
                      device_delegate=device_delegate, self_check_atol=self_check_atol, sign=sign)
    spec = TARGETS[o.target]
    model = Path(model)
    if not model.is_file():
        raise ModelNotFoundError(f"model file {str(model)!r} does not exist",
                                 hint="give the .tflite written by `edgelift convert`")
    head = model.read_bytes()[:8]
    if len(head) < 8 or head[4:8] != b"TFL3":
        raise InvalidModelError(f"{str(model)!r} is not a .tflite flatbuffer (no TFL3 identifier)",
                                hint="bundle the .tflite written by `edgelift convert`, not the Keras model")
    out = Path(output) if output is not None else model.with_suffix(".bundle")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and _read_manifest(out) is None)):
        raise OutputError(f"output {str(out)!r} exists and is not an edgelift bundle",
                          hint="choose a new folder name, or remove it first")
    if out.exists() and not overwrite:
        raise OutputError(f"bundle {str(out)!r} exists", hint="pass overwrite=True or choose another folder")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write the bundle {str(out)!r}: folder {str(parent)!r} is missing or read-only",
                          hint="create the folder first or choose another output path")
    self_check_atol = o.self_check_atol
    kind = bundle_delegate.choose(model, device_delegate)
    if kind != "neon" and delegate_library is not None:
        raise InvalidArgumentError(f"--delegate-library given, but the model runs with {kind} on the device",
                                   hint="pass --device-delegate neon to bundle edgelift's delegate anyway")
    lib = Path(delegate_library) if delegate_library is not None else neon.library_path(spec["arch"])
    if kind == "neon":
        if not lib.is_file():
            raise DelegateError(f"delegate library {str(lib)!r} does not exist",
                                hint="build the aarch64 delegate with `make native-aarch64`")
        neon.check_library(lib, spec["arch"])  # a text file or the desktop's build would fail only on the device
    options = neon.delegate_options(num_threads=num_threads, kernels=kernels) if kind == "neon" else {}

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    try:
        shutil.copyfile(model, tmp / MODEL_FILE)
        if kind == "neon":
            (tmp / "delegate").mkdir()
            shutil.copyfile(lib, tmp / "delegate" / neon.LIBRARY)
        (tmp / "agent").mkdir()
        shutil.copyfile(AGENT_FILE, tmp / AGENT_PATH)
        (tmp / "reference").mkdir()
        inputs, outputs, signature = _reference(tmp / MODEL_FILE, seed, repr(str(model)))
        ref_in, ref_out = [], []
        for i, x in enumerate(inputs):
            np.save(tmp / "reference" / f"input_{i}.npy", x, allow_pickle=False)
            ref_in.append(f"reference/input_{i}.npy")
        for i, y in enumerate(outputs):
            np.save(tmp / "reference" / f"output_{i}.npy", y, allow_pickle=False)
            ref_out.append(f"reference/output_{i}.npy")
        seen = None if kind == "neon" else bundle_delegate.desktop_xnnpack_outputs(tmp / MODEL_FILE, inputs)
        exact, tols, how = bundle_delegate.tolerances(kind, outputs, seen, self_check_atol)
        files = {p.relative_to(tmp).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
                 for p in sorted(tmp.rglob("*")) if p.is_file()}
        # the id names what runs: the files, and the target and delegate options they run with
        identity = {"files": files, "target": target, "delegate_options": options, "delegate": kind,
                    "tolerances": tols}
        bundle_id = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
        from ai_edge_litert import __version__ as litert_version

        manifest = {
            "format": FORMAT,
            "bundle_id": bundle_id,
            "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "edgelift_version": __version__,
            "target": target,
            "target_spec": spec,
            "model": {"file": MODEL_FILE, "source_name": model.name, **files[MODEL_FILE]},
            "signature": signature,
            "delegate": bundle_delegate.manifest_entry(kind, f"delegate/{neon.LIBRARY}", spec["arch"], options),
            "agent": {"file": AGENT_PATH, "python": ">=3.9"},
            "runtimes_tested": RUNTIMES_TESTED,
            "reference": {"inputs": ref_in, "outputs": ref_out, "seed": seed, "exact": exact,
                          "tolerance": max(tols, default=0.0), "tolerances": tols, "tolerance_source": how,
                          "computed_with": f"ai-edge-litert {litert_version} BUILTIN_WITHOUT_DEFAULT_DELEGATES"},
            "files": files,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if sign is not None:
            sign_manifest(tmp, sign)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return BundleResult(path=out, manifest=manifest, seconds=time.perf_counter() - start, size_bytes=size,
                        files=len(files) + 1 + (sign is not None))


def _replace_dir(new: Path, out: Path) -> None:
    """Put folder `new` at `out`: a rename, with an existing bundle moved aside first and removed after."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        if old is not None:
            with contextlib.suppress(OSError):
                os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
