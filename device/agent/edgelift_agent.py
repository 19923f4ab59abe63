#!/usr/bin/env python3
"""edgelift's on-device agent: one file, Python 3.9+, numpy and a TFLite runtime only.

It ships inside every bundle and runs on the Raspberry Pi as ``python3 agent/edgelift_agent.py COMMAND``:

    verify  --bundle DIR            sha256 of every file listed in DIR/manifest.json
    check   --bundle DIR            verify, then the self-check: the model with the delegate on the bundle's
                                    fixed input must reproduce the desktop reference outputs (bit for bit
                                    for integer outputs)
    run     --bundle DIR            input .npy/.npz on stdin -> outputs (npz, base64) in the result line
    bench   --bundle DIR            latency per delegate on this device, with the device's conditions
    info    [--dir DIR]             CPU, NEON/dot product, governor, temperature, throttling, Python,
                                    runtimes, free memory and disk

Output: human-readable lines on stderr, and exactly one machine-readable last line on stdout:
``@@edgelift@@ {json}`` with ``"ok": true|false`` (and ``"step"``, ``"message"``, ``"hint"`` on failure).
Exit status 0 on success, 1 on a failed step, 3 when no TFLite runtime (or numpy) is installed.

No TensorFlow, no edgelift install: the desktop side talks to this file only through that protocol.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time

PROTOCOL = 1
DEVICE_DELEGATES = ("neon", "xnnpack")  # what a bundle's self-check runs with (manifest delegate.kind)
MARKER = "@@edgelift@@"
MANIFEST = "manifest.json"
RUNTIME_MODULES = (("tflite_runtime", "tflite_runtime.interpreter", "tflite-runtime"),
                   ("litert", "ai_edge_litert.interpreter", "ai-edge-litert"))
# what edgelift tests on Raspberry Pi OS Bookworm (Python 3.11): see manifest["runtimes_tested"]
DEFAULT_RUNTIME_PINS = "tflite-runtime==2.14.0 numpy==1.26.4"
CPU_PARTS = {"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
             "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
             "0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77", "0xd41": "Cortex-A78", "0xd44": "Cortex-X1",
             "0xd46": "Cortex-A510", "0xd47": "Cortex-A710", "0xd4d": "Cortex-A715"}
THROTTLE_BITS = {0: "under-voltage now", 1: "ARM frequency capped now", 2: "throttled now",
                 3: "soft temperature limit now", 16: "under-voltage occurred", 17: "frequency capping occurred",
                 18: "throttling occurred", 19: "soft temperature limit occurred"}


class StepFailed(Exception):
    def __init__(self, step, message, hint=None, code=1, **extra):
        super().__init__(message)
        self.step, self.message, self.hint, self.code, self.extra = step, message, hint, code, extra


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def emit(result):
    sys.stdout.flush()
    print(MARKER + " " + json.dumps(result, sort_keys=True), flush=True)


# --------------------------------------------------------------------------------------------- bundle


def load_manifest(bundle):
    path = os.path.join(bundle, MANIFEST)
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        raise StepFailed("verify", f"no {MANIFEST} in {bundle!r}",
                         "the upload is incomplete; deploy again") from None
    except ValueError as exc:
        raise StepFailed("verify", f"{MANIFEST} in {bundle!r} is not valid JSON ({exc})",
                         "the upload is damaged; deploy again") from None
    problem = manifest_problem(manifest)
    if problem:
        raise StepFailed("verify", f"{MANIFEST} in {bundle!r}: {problem}",
                         "rebuild the bundle with `edgelift bundle`; a bundle is never edited by hand")
    return manifest


# A manifest is untrusted input (bundles are shared across fleets): every name in it becomes a path on the
# device, so each is checked before anything is read, written or removed. The desktop (bundle, deploy) imports
# this same function; the agent ships as one file, so it lives here.
BUNDLE_ID_CHARS = frozenset("0123456789abcdef")
PATH_PART_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
HEX = frozenset("0123456789abcdef")


def path_problem(rel):
    """Why `rel` is not a plain relative path inside a bundle (None when it is): POSIX separators, 1-4 parts
    of letters, digits, '.', '_', '-', none empty, '.' or '..', none starting with '.' or '-'."""
    if not isinstance(rel, str) or not 0 < len(rel) <= 200:
        return f"path {rel!r} is not a name of 1-200 characters"
    parts = rel.split("/")
    if len(parts) > 4:
        return f"path {rel!r} is nested deeper than 4 folders"
    for part in parts:
        if not part or part[0] in ".-" or not set(part) <= PATH_PART_CHARS:
            return (f"path {rel!r} is not a plain relative path (allowed: letters, digits, '.', '_', '-' in "
                    "parts separated by '/', no part empty or starting with '.' or '-')")
    return None


def manifest_problem(manifest):
    """Why `manifest` is not a well-formed edgelift-bundle/1 manifest (None when it is)."""
    if not isinstance(manifest, dict):
        return f"the manifest is a JSON {type(manifest).__name__}, not an object"
    if manifest.get("format") != "edgelift-bundle/1":
        return "unknown bundle format {!r} (this agent reads edgelift-bundle/1)".format(manifest.get("format"))
    bid = manifest.get("bundle_id")
    if not isinstance(bid, str) or len(bid) != 12 or not set(bid) <= BUNDLE_ID_CHARS:
        return f"bundle_id {bid!r} is not 12 lowercase hex digits"
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return "'files' is missing or empty (it lists every file of the bundle with its sha256 and size)"
    for rel, meta in files.items():
        problem = path_problem(rel)
        if problem:
            return f"files: {problem}"
        if rel == MANIFEST:
            return f"files: lists {MANIFEST} itself"
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str) or len(meta["sha256"]) != 64 \
                or not set(meta["sha256"]) <= HEX:
            return f"files: {rel!r} has no 64-hex-digit sha256"
        size = meta.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return f"files: {rel!r} has size {size!r}, not a non-negative integer"
    named = []
    for key in ("model", "delegate", "agent"):
        entry = manifest.get(key)
        if not isinstance(entry, dict):
            return f"'{key}' is missing or not an object"
        if key == "delegate" and entry.get("kind", "neon") not in DEVICE_DELEGATES:
            return "delegate.kind {!r} is not one of {}".format(entry.get("kind"), ", ".join(DEVICE_DELEGATES))
        if key != "delegate" or bundle_delegate(manifest) == "neon":  # an XNNPACK bundle carries no library
            named.append((f"{key}.file", entry.get("file")))
    reference = manifest.get("reference")
    if not isinstance(reference, dict):
        return "'reference' is missing or not an object"
    for key in ("inputs", "outputs"):
        entries = reference.get(key)
        if not isinstance(entries, list):
            return f"reference.{key} is not a list"
        named += [(f"reference.{key}[{i}]", f) for i, f in enumerate(entries)]
    tols = reference.get("tolerances")
    if tols is not None and (not isinstance(tols, list) or len(tols) != len(reference["outputs"]) or not all(
            isinstance(t, (int, float)) and not isinstance(t, bool) and t >= 0 for t in tols)):
        return "reference.tolerances is not a list of one number >= 0 per reference output"
    for where, rel in named:
        if rel not in files:
            return f"{where} {rel!r} is not one of the bundle's files (each file it names must be listed in 'files')"
    return None


def bundle_delegate(manifest):
    """The delegate the bundle's model was validated with: 'neon' (the bundle's library) or 'xnnpack'."""
    return (manifest.get("delegate") or {}).get("kind", "neon")  # bundles from before float support: neon


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle_files(root):
    """Every entry below `root` that is not a folder, as relative POSIX paths; symbolic links are refused
    (one could point anywhere on the device)."""
    found = []
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if os.path.islink(path):
                raise StepFailed("verify", f"the bundle holds a symbolic link {rel!r}",
                                 "rebuild the bundle with `edgelift bundle` (it writes plain files only)")
            if name in names:
                found.append(rel)
    return found


SIGNATURE = MANIFEST + ".sig"
SIGN_NAMESPACE = "edgelift-bundle"


def allowed_signers_of(bundle):
    """The device's <install dir>/allowed_signers when `bundle` lies in that install dir (its staging/ or
    releases/), else None. Its presence is what makes this device require signed bundles."""
    parent = os.path.dirname(os.path.realpath(bundle))
    if os.path.basename(parent) not in ("staging", "releases"):
        return None
    path = os.path.join(os.path.dirname(parent), "allowed_signers")
    return path if os.path.isfile(path) else None


def check_signature(bundle):
    """'unsigned', 'signed (not required here)' or 'signed by PRINCIPAL'; StepFailed when this device requires
    a signature (allowed_signers_of) and the manifest has none, or one that ssh-keygen -Y verify refuses."""
    signers, sig = allowed_signers_of(bundle), os.path.join(bundle, SIGNATURE)
    if signers is None:
        return "signed (not required here)" if os.path.isfile(sig) else "unsigned"
    if not os.path.isfile(sig):
        raise StepFailed("verify", f"this device accepts only signed bundles ({signers}) and this one has no "
                         f"{SIGNATURE}", "sign it: edgelift bundle MODEL --sign KEY")
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        raise StepFailed("verify", f"this device requires signed bundles ({signers}) but has no ssh-keygen",
                         "install OpenSSH's client on the device (Debian: openssh-client)")
    found = subprocess.run([keygen, "-Y", "find-principals", "-s", sig, "-f", signers], capture_output=True,
                           text=True, timeout=60)
    principals = found.stdout.split()
    if found.returncode != 0 or not principals:
        raise StepFailed("verify", f"the bundle is signed by a key that {signers} does not list",
                         "sign with a trusted key, or trust this one: edgelift device trust --host H KEY.pub")
    with open(os.path.join(bundle, MANIFEST), "rb") as fh:
        checked = subprocess.run([keygen, "-Y", "verify", "-f", signers, "-I", principals[0], "-n", SIGN_NAMESPACE,
                                  "-s", sig], stdin=fh, capture_output=True, text=True, timeout=60)
    if checked.returncode != 0:
        raise StepFailed("verify", f"the signature of {principals[0]!r} does not match {MANIFEST}: the manifest was "
                         "changed after it was signed", "rebuild and sign the bundle again")
    return f"signed by {principals[0]}"


def verify(bundle):
    """The signature when the device requires one; every file in the manifest exists with its size and
    sha256; no path leaves the bundle, no file is unlisted. Returns (manifest, files checked, signature)."""
    manifest = load_manifest(bundle)
    signature = check_signature(bundle)
    root = os.path.realpath(bundle)
    checked = 0
    extra = sorted(set(bundle_files(root)) - set(manifest["files"]) - {MANIFEST, SIGNATURE})
    if extra:
        raise StepFailed("verify", f"{len(extra)} file(s) in the bundle are not in its manifest: "
                         + ", ".join(repr(e) for e in extra[:5]), "rebuild the bundle with `edgelift bundle`")
    for rel, meta in sorted(manifest["files"].items()):
        path = os.path.realpath(os.path.join(root, rel))
        if not path.startswith(root + os.sep):
            raise StepFailed("verify", f"manifest path {rel!r} leaves the bundle", "rebuild the bundle")
        if not os.path.isfile(path):
            raise StepFailed("verify", f"file {rel!r} is missing on the device", "deploy again",
                             file=rel)
        got = sha256_file(path)
        if got != meta["sha256"]:
            raise StepFailed("verify", f"checksum mismatch for {rel!r}: expected sha256 {meta['sha256'][:16]}, "
                             f"found {got[:16]} on the device",
                             "the file was damaged in transfer or on the device's storage; deploy again "
                             "(and check the SD card if it repeats)", file=rel)
        checked += 1
    log(f"verify: {checked} files match their sha256; {signature}")
    return manifest, checked, signature


# ---------------------------------------------------------------------------------------- quantization
# A copy of edgelift/quantization.py (LiteRT's QUANTIZE / DEQUANTIZE rounding): the agent ships as one file,
# and tests/device/test_quantization.py checks that this is that code, statement for statement.


class _LazyNumpy:
    """numpy on first use, so that `info` still runs (and says so) on a device without numpy."""

    def __getattr__(self, name):
        import numpy

        globals()["np"] = numpy
        return getattr(numpy, name)


np = _LazyNumpy()


VECTOR_BLOCK = 8  # QUANTIZE's vector loop: elements per iteration; the rest is its scalar tail


def round_half_away(v):
    """std::round: half away from zero (numpy's np.round and np.rint are half to even)."""
    v = np.asarray(v)
    if v.dtype.kind != "f":
        return v
    t = np.trunc(v)
    return t + np.where(np.abs(v - t) >= 0.5, np.sign(v), 0).astype(v.dtype)


def quantize(x, scale, zero_point, dtype="int8"):
    """Float samples (first axis = invocations; a 0-D or 1-D array is one) -> `dtype` as LiteRT's QUANTIZE."""
    x = np.asarray(x, np.float32)
    rows = x.reshape(1, -1) if x.ndim <= 1 else x.reshape(x.shape[0], -1)
    split = (rows.shape[1] // VECTOR_BLOCK) * VECTOR_BLOCK
    recip = np.float32(np.float32(1.0) / np.float32(scale))
    q = np.empty(rows.shape, np.float64)
    q[:, :split] = np.rint(rows[:, :split] * recip)
    q[:, split:] = round_half_away(rows[:, split:].astype(np.float64) / np.float64(np.float32(scale)))
    info = np.iinfo(np.dtype(dtype))
    q = np.clip(q + int(zero_point), info.min, info.max)
    return q.astype(np.dtype(dtype)).reshape(x.shape)


def dequantize(q, scale, zero_point):
    """Integer values (first axis = invocations) -> float32 as LiteRT's DEQUANTIZE: the vector body computes
    float32(q) * scale + float32(-zero_point * scale) in float32 (two roundings), the tail (q - zero_point) * scale
    in double, rounded once."""
    q = np.asarray(q)
    rows = q.reshape(1, -1) if q.ndim <= 1 else q.reshape(q.shape[0], -1)
    split = (rows.shape[1] // VECTOR_BLOCK) * VECTOR_BLOCK
    s = np.float32(scale)
    out = np.empty(rows.shape, np.float32)
    out[:, :split] = rows[:, :split].astype(np.float32) * s + np.float32(-int(zero_point) * np.float64(s))
    out[:, split:] = ((rows[:, split:].astype(np.float64) - int(zero_point)) * np.float64(s)).astype(np.float32)
    return out.reshape(q.shape)


# --------------------------------------------------------------------------------------------- runtime


def runtime_install_hint(python=None):
    python = python or sys.executable
    venv = "~/edgelift/venv"
    return (f"install one in a venv on the device: `{python} -m venv {venv} && {venv}/bin/pip install "
            f"{DEFAULT_RUNTIME_PINS}` (edgelift then uses {venv}/bin/python unless --remote-python says otherwise), "
            "or let edgelift do it: deploy --install-runtime")


def import_runtime():
    """(name, version, interpreter module) of the first importable runtime; StepFailed(code 3) if none."""
    import importlib

    try:
        import numpy  # noqa: F401
    except ImportError:
        raise StepFailed("runtime", f"numpy is not installed for {sys.executable} (Python {platform.python_version()})",
                         runtime_install_hint(), code=3) from None
    errors = []
    forced = os.environ.get("EDGELIFT_RUNTIME")
    for name, module, dist in RUNTIME_MODULES:
        if forced and forced != name:
            continue
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            errors.append(f"{dist}: {exc}")
            continue
        return name, dist_version(dist), mod
    raise StepFailed("runtime", f"no TFLite runtime is installed for {sys.executable} "
                     f"(Python {platform.python_version()}): tried {'; '.join(errors)}",
                     runtime_install_hint(), code=3)


def dist_version(dist):
    try:
        from importlib import metadata
    except ImportError:  # pragma: no cover - Python < 3.8
        return None
    try:
        return metadata.version(dist)
    except Exception:
        return None


@contextlib.contextmanager
def captured_stderr():
    """Capture what C code writes to fd 2 (the delegate's partition line) while still showing it.

    Through a pipe drained by a thread, never a temporary file: on a full disk tempfile finds no usable
    directory (check and run failed with an agent error) and a C write to a full file fails without a word."""
    buf = {"text": ""}
    chunks = []
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()

    def drain():
        while True:
            data = os.read(read_end, 65536)
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield buf
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last write end closes: the reader sees the end
        os.close(saved)
        reader.join(timeout=10)
        if not reader.is_alive():
            os.close(read_end)
        buf["text"] = b"".join(chunks).decode("utf-8", "replace")
        if buf["text"]:
            sys.stderr.write(buf["text"])
            sys.stderr.flush()


# XNNPACK's C API flag that lets it take signed int8 (QS8) nodes; tflite-runtime 2.14's default resolver creates
# XNNPACK with flags 0, so without it int8 models run on the builtin kernels even "with XNNPACK".
XNNPACK_FLAG_QS8 = 0x1
TFLITE_DELEGATE_FLAG_ALLOW_DYNAMIC_TENSORS = 0x1


class _NativeDelegate:
    """A TfLiteDelegate* made through a runtime's own C API, in the shape its Interpreter accepts."""

    def __init__(self, pointer, delete):
        self._pointer, self._delete = pointer, delete

    def _get_native_delegate_pointer(self):
        return self._pointer

    def __del__(self):  # the Interpreter holds us until it is gone
        if self._pointer:
            self._delete(self._pointer)
            self._pointer = None


def xnnpack_int8(mod, threads=1):
    """XNNPACK created with int8 enabled through the C API tflite-runtime's extension exports, or None when the
    runtime's default already applies XNNPACK to int8 (ai-edge-litert 1.4+) or exports no such API."""
    import ctypes

    wrapper = sys.modules.get("tflite_runtime._pywrap_tensorflow_interpreter_wrapper")
    if wrapper is None or not getattr(mod, "__name__", "").startswith("tflite_runtime"):
        return None
    lib = ctypes.CDLL(wrapper.__file__)  # already loaded: the same handle, no second copy
    try:
        default, create = lib.TfLiteXNNPackDelegateOptionsDefault, lib.TfLiteXNNPackDelegateCreate
        delete, get_flags = lib.TfLiteXNNPackDelegateDelete, lib.TfLiteXNNPackDelegateGetFlags
    except AttributeError:
        return None

    class Options(ctypes.Structure):
        # num_threads, flags, then fields this code leaves at their defaults; the padding makes room for
        # whatever later versions append (the struct is returned through memory either way: > 16 bytes)
        _fields_ = [("num_threads", ctypes.c_int32), ("flags", ctypes.c_uint32), ("rest", ctypes.c_ubyte * 120)]

    default.restype, default.argtypes = Options, []
    create.restype, create.argtypes = ctypes.c_void_p, [ctypes.POINTER(Options)]
    delete.restype, delete.argtypes = None, [ctypes.c_void_p]
    get_flags.restype, get_flags.argtypes = ctypes.c_uint32, [ctypes.c_void_p]
    options = default()
    options.num_threads = threads
    options.flags |= XNNPACK_FLAG_QS8
    pointer = create(ctypes.byref(options))
    if not pointer:
        raise RuntimeError("TfLiteXNNPackDelegateCreate returned NULL")
    if not get_flags(pointer) & XNNPACK_FLAG_QS8:
        delete(pointer)
        raise RuntimeError("XNNPACK did not keep its int8 (QS8) flag")
    # Graphs that compute a shape (SHAPE -> PACK -> RESHAPE) have dynamic tensors; an explicitly applied delegate
    # without kTfLiteDelegateFlagsAllowDynamicTensors fails the whole graph on them, where the runtime's own
    # default application would go on. XNNPACK leaves dynamic tensors to the runtime itself. TfLiteDelegate is
    # {data_, Prepare, CopyFromBufferHandle, CopyToBufferHandle, FreeBufferHandle, int64 flags, ...} in every
    # TFLite 2.x C API.
    flags = ctypes.c_int64.from_address(pointer + 5 * ctypes.sizeof(ctypes.c_void_p))
    flags.value |= TFLITE_DELEGATE_FLAG_ALLOW_DYNAMIC_TENSORS
    return _NativeDelegate(pointer, delete)


def make_interpreter(bundle, manifest, delegate="neon", threads=1, model=None, neon=None):
    """An allocated interpreter for the bundle's model: 'neon' (the bundle's delegate over the builtin
    kernels), 'builtin' (no default delegate: the reference) or 'xnnpack' (XNNPACK with int8 enabled).

    `model` and `neon` ({"file", "options"}) stand in for the manifest's entries (the cost meter's guest)."""
    name, version, mod = import_runtime()
    model = model or os.path.join(bundle, manifest["model"]["file"])
    resolver = getattr(mod, "OpResolverType", None)
    kwargs = {"model_path": model, "num_threads": threads}
    partition = None
    with captured_stderr() as err:
        try:
            xnnpack = xnnpack_int8(mod, threads) if delegate == "xnnpack" else None
            if (delegate in ("neon", "builtin") or xnnpack is not None) and resolver is not None:
                kwargs["experimental_op_resolver_type"] = resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
            if xnnpack is not None:
                kwargs["experimental_delegates"] = [xnnpack]
            if delegate == "neon":
                if neon is None and bundle_delegate(manifest) != "neon":
                    raise StepFailed("self-check", "this bundle carries no edgelift NEON delegate: its model is "
                                     f"validated with {bundle_delegate(manifest)} (a float model)",
                                     f"use --delegate {bundle_delegate(manifest)} or builtin")
                spec = neon or manifest["delegate"]
                lib = spec["file"] if neon else os.path.join(bundle, spec["file"])
                options = dict(spec.get("options") or {})
                options["num_threads"] = str(threads)
                loaded = mod.load_delegate(lib, options)
                kwargs["experimental_delegates"] = [loaded]
            interp = mod.Interpreter(**kwargs)
            interp.allocate_tensors()
            failure = None
        except StepFailed:
            raise
        except Exception as exc:  # runtimes raise ValueError, RuntimeError or AttributeError (missing symbol)
            failure = " ".join(str(exc).split())
    if failure is not None:
        # tflite-runtime's exception may not carry the delegate's own reason: it went to the error reporter
        said = [ln.strip() for ln in err["text"].splitlines() if ln.startswith("edgelift-neon:")]
        reason = "; ".join([failure] + [ln for ln in said if ln not in failure])
        raise StepFailed("self-check", f"{name} could not load the model with delegate {delegate!r}: {reason}",
                         "check the runtime version against manifest runtimes_tested")
    for line in err["text"].splitlines():
        if "delegated" in line:
            partition = line.strip()
    meta = {"runtime": name, "runtime_version": version, "delegate": delegate, "threads": threads,
            "partition": partition}
    if delegate == "xnnpack":
        meta["xnnpack"] = ("created with int8 (QS8) enabled" if xnnpack is not None
                           else "the runtime's default (int8 enabled)")
    return interp, meta


def invoke(interp, inputs):
    for detail, value in zip(interp.get_input_details(), inputs):  # noqa: B905 (Python 3.9: no strict=)
        interp.set_tensor(detail["index"], value)
    interp.invoke()
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def load_reference(bundle, manifest, key):
    import numpy as np

    return [np.load(os.path.join(bundle, f), allow_pickle=False) for f in manifest["reference"][key]]


def compare(ref, got, exact, atol):
    import numpy as np

    if ref.shape != got.shape or ref.dtype != got.dtype:
        return {"equal": False, "why": f"shape/dtype {got.shape} {got.dtype} vs {ref.shape} {ref.dtype}"}
    if exact:
        diff = ref != got
        n = int(diff.sum())
        out = {"equal": n == 0, "mismatches": n, "elements": int(ref.size)}
        if n:
            idx = tuple(int(i) for i in np.argwhere(diff)[0])
            d = np.abs(ref.astype(np.int64) - got.astype(np.int64)) if ref.dtype.kind in "iu" else np.abs(
                ref.astype(np.float64) - got.astype(np.float64))
            out.update(first_index=list(idx), expected=ref[idx].item(), got=got[idx].item(),
                       max_abs_diff=float(d.max()))
        return out
    d = float(np.max(np.abs(ref.astype(np.float64) - got.astype(np.float64)))) if ref.size else 0.0
    return {"equal": d <= atol, "max_abs_diff": d, "tolerance": atol, "elements": int(ref.size)}


def self_check(bundle, manifest, threads=1):
    interp, meta = make_interpreter(bundle, manifest, bundle_delegate(manifest), threads)
    inputs = load_reference(bundle, manifest, "inputs")
    refs = load_reference(bundle, manifest, "outputs")
    outs = invoke(interp, inputs)
    ref_meta = manifest["reference"]
    tols = ref_meta.get("tolerances") or [ref_meta.get("tolerance", 0.0)] * len(refs)
    results = [compare(r, g, ref_meta["exact"], t)
               for r, g, t in zip(refs, outs, tols)]  # noqa: B905 (Python 3.9: no strict=)
    how = "bit for bit" if ref_meta["exact"] else "within {}".format(", ".join(f"{t:g}" for t in tols))
    if not all(r["equal"] for r in results):
        bad = next(r for r in results if not r["equal"])
        raise StepFailed("self-check", f"the device's outputs differ from the desktop reference ({how}): "
                         f"{json.dumps(bad)}",
                         "this runtime or delegate computes something else than what was validated; check "
                         "manifest runtimes_tested and report it", outputs=results, **meta)
    log(f"self-check: {len(refs)} output(s) match the desktop reference {how} "
        f"({meta['runtime']} {meta['runtime_version']}, {meta['partition'] or 'delegate ' + meta['delegate']})")
    return dict(meta, outputs=results, exact=ref_meta["exact"])


# --------------------------------------------------------------------------------------------- commands


def cmd_verify(args):
    manifest, n, signature = verify(args.bundle)
    return {"files": n, "bundle_id": manifest.get("bundle_id"), "signature": signature}


def cmd_check(args):
    manifest, n, signature = verify(args.bundle)
    result = self_check(args.bundle, manifest, args.threads)
    warnings = []
    spec = manifest.get("target_spec") or {}
    cpu = cpuinfo()
    if spec.get("dotprod") and not cpu["dotprod"]:
        warnings.append(f"the bundle targets {manifest.get('target')} ({spec.get('cpu')}, dot product) but this CPU "
                        "has no dot-product instructions: the delegate falls back to its ARMv8.0 kernels")
    return dict(result, files=n, bundle_id=manifest.get("bundle_id"), signature=signature, warnings=warnings)


def _read_inputs(data, manifest):
    import numpy as np

    if not data:
        raise StepFailed("run", "no input was received on stdin", "give --input FILE.npy")
    bio = io.BytesIO(data)
    if data[:6] == b"\x93NUMPY":
        arrays = [np.load(bio, allow_pickle=False)]
    else:
        try:
            with np.load(bio, allow_pickle=False) as npz:
                arrays = [npz[k] for k in sorted(npz.files, key=_npz_order)]
        except Exception as exc:
            raise StepFailed("run", f"the input is neither .npy nor .npz ({exc})", "give a .npy file") from None
    sig = manifest["signature"]["inputs"]
    if len(arrays) != len(sig):
        raise StepFailed("run", f"the model takes {len(sig)} input(s), got {len(arrays)}",
                         "give one .npy per input in a .npz (arr_0, arr_1, ...)")
    fixed = []
    for arr, spec in zip(arrays, sig):  # noqa: B905
        want = tuple(spec["shape"])
        if arr.shape == want[1:] and len(want) == arr.ndim + 1:
            arr = arr[None]
        if tuple(arr.shape) != want:
            raise StepFailed("run", "input {!r} has shape {}, the model wants {}".format(spec["name"], arr.shape, want),
                             "reshape the array (a missing batch axis of 1 is added automatically)")
        if arr.dtype != np.dtype(spec["dtype"]):
            if spec["dtype"] in ("int8", "uint8") and arr.dtype.kind == "f" and spec.get("scale"):
                arr = quantize(arr, spec["scale"], spec["zero_point"], spec["dtype"])
            elif arr.dtype.kind == "f" and spec["dtype"].startswith("float"):
                arr = arr.astype(spec["dtype"])
            else:
                raise StepFailed("run", f"input {spec['name']!r} has dtype {arr.dtype}, the model wants "
                                 f"{spec['dtype']}",
                                 "convert the array (float inputs are quantized with the input's scale)")
        fixed.append(arr)
    return fixed


def _npz_order(key):
    digits = "".join(ch for ch in key if ch.isdigit())
    return (int(digits) if digits else 0, key)


def cmd_run(args):
    import numpy as np

    manifest, _, _ = verify(args.bundle)  # every run: a byte flipped at rest on the SD card is caught here
    data = sys.stdin.buffer.read()
    inputs = _read_inputs(data, manifest)
    interp, meta = make_interpreter(args.bundle, manifest, args.delegate or bundle_delegate(manifest), args.threads)
    start = time.perf_counter()
    outs = invoke(interp, inputs)
    ms = (time.perf_counter() - start) * 1e3
    buf = io.BytesIO()
    np.savez(buf, *outs)
    return dict(meta, latency_ms=ms, npz_base64=base64.b64encode(buf.getvalue()).decode("ascii"),
                shapes=[list(o.shape) for o in outs], dtypes=[str(o.dtype) for o in outs],
                bundle_id=manifest.get("bundle_id"))


def _stats(times_ms):
    xs = sorted(times_ms)
    n = len(xs)

    def pct(p):
        k = (n - 1) * p
        lo = int(k)
        hi = min(lo + 1, n - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)

    return {"median_ms": pct(0.5), "p10_ms": pct(0.1), "p90_ms": pct(0.9), "min_ms": xs[0],
            "mean_ms": sum(xs) / n, "runs": n}


def cmd_bench(args):
    manifest, _, _ = verify(args.bundle)
    before = conditions(args.bundle)
    inputs = load_reference(args.bundle, manifest, "inputs")
    # all interpreters loaded first, then run interleaved (one invocation of each in turn), as the desktop
    # bench does: frequency scaling, heat and background load hit every delegate alike
    results, loaded = [], []
    for delegate in args.delegates.split(","):
        try:
            interp, meta = make_interpreter(args.bundle, manifest, delegate, args.threads)
        except StepFailed as exc:
            if exc.code == 3:
                raise
            results.append({"delegate": delegate, "error": exc.message})
            continue
        for _ in range(args.warmup):
            invoke(interp, inputs)
        row = dict(meta, warmup=args.warmup)
        results.append(row)
        loaded.append((interp, row, []))
    deadline = time.perf_counter() + args.max_seconds
    for _ in range(args.runs):
        for interp, _row, times in loaded:
            t0 = time.perf_counter()
            interp.invoke()
            times.append((time.perf_counter() - t0) * 1e3)
        if time.perf_counter() > deadline:
            break
    for _interp, row, times in loaded:
        row.update(_stats(times))
        log(f"bench: {row['delegate']:<8} median {row['median_ms']:.3f} ms (p10 {row['p10_ms']:.3f}, "
            f"p90 {row['p90_ms']:.3f}, {row['runs']} runs)")
    after = conditions(args.bundle)
    warnings = []
    for when, cond in (("before", before), ("after", after)):
        flags = (cond.get("throttled") or {}).get("now") or []
        if flags:
            warnings.append(f"the device was throttled {when} the run ({', '.join(flags)}): "
                            "figures are not representative")
    base = next((r for r in results if r.get("delegate") == "builtin" and "median_ms" in r), None)
    if base:
        for r in results:
            if "median_ms" in r and r["median_ms"] > 0:
                r["speedup_vs_builtin"] = base["median_ms"] / r["median_ms"]
    cpu = cpuinfo()
    if cpu["features_source"] != "/proc/cpuinfo":
        warnings.append("/proc/cpuinfo does not describe this CPU (an emulator such as qemu-user?): these timings "
                        "are not a Raspberry Pi's")
    return {"results": results, "conditions_before": before, "conditions_after": after, "warnings": warnings,
            "cpu": cpu,
            "model": manifest["model"]["file"], "bundle_id": manifest.get("bundle_id")}


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return None


def cpuinfo():
    text = read_text("/proc/cpuinfo") or ""
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            key, _, value = line.partition(":")
            fields.setdefault(key.strip().lower(), value.strip())
    features = (fields.get("features") or fields.get("flags") or "").split()
    part = fields.get("cpu part")
    model = read_text("/proc/device-tree/model") or fields.get("model")
    if model and model.strip().isdigit():  # x86's "model : 1" is a CPU model number, not a board
        model = None
    if model:
        model = model.rstrip("\x00")
    machine = platform.machine()
    cpu = CPU_PARTS.get(part or "", fields.get("model name") or part)
    neon, dotprod = "asimd" in features or "neon" in features, "asimddp" in features
    source = "/proc/cpuinfo"
    if machine == "aarch64" and "features" not in fields:
        # /proc/cpuinfo is not the CPU's (e.g. under qemu-user it is the host's): ask the kernel's hwcaps
        hwcap = getauxval(16)  # AT_HWCAP
        if hwcap is not None:
            neon, dotprod, source = bool(hwcap >> 1 & 1), bool(hwcap >> 20 & 1), "AT_HWCAP"
        cpu = None
    return {"machine": machine, "board": model, "cpu": cpu, "cores": os.cpu_count(), "neon": neon,
            "dotprod": dotprod, "features": features, "features_source": source}


def getauxval(key):
    try:
        import ctypes

        fn = ctypes.CDLL(None).getauxval
        fn.restype, fn.argtypes = ctypes.c_ulong, [ctypes.c_ulong]
        return int(fn(key))
    except (OSError, AttributeError, ImportError):
        return None


def throttled():
    exe = shutil.which("vcgencmd")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "get_throttled"], capture_output=True, text=True, timeout=5).stdout
        value = int(out.strip().split("=")[-1], 16)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    now = [text for bit, text in THROTTLE_BITS.items() if bit < 16 and value >> bit & 1]
    ever = [text for bit, text in THROTTLE_BITS.items() if bit >= 16 and value >> bit & 1]
    return {"raw": hex(value), "now": now, "since_boot": ever}


def conditions(where="."):
    temp = read_text("/sys/class/thermal/thermal_zone0/temp")
    meminfo = read_text("/proc/meminfo") or ""
    mem = {}
    for line in meminfo.splitlines():
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            mem[key] = int(value.split()[0]) * 1024
    try:
        disk = shutil.disk_usage(where if os.path.exists(where) else ".")
        disk_free = disk.free
    except OSError:
        disk_free = None
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {
        "governor": read_text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "cpu_mhz": (int(read_text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")) // 1000
                    if (read_text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq") or "").isdigit()
                    else None),
        "temperature_c": int(temp) / 1000.0 if temp and temp.lstrip("-").isdigit() else None,
        "throttled": throttled(),
        "mem_available_bytes": mem.get("MemAvailable"),
        "mem_total_bytes": mem.get("MemTotal"),
        "disk_free_bytes": disk_free,
        "load_1min": load,
    }


def runtimes():
    found = {}
    for _name, _module, dist in RUNTIME_MODULES:
        found[dist] = dist_version(dist)
    found["numpy"] = dist_version("numpy")
    return found


def installed_integrity(base):
    """Whether the running version under install dir `base` still matches its manifest (None: none deployed)."""
    current = os.path.join(base, "current")
    if not os.path.isfile(os.path.join(current, MANIFEST)):
        return None
    try:
        _, n, signature = verify(current)
    except StepFailed as exc:
        return {"ok": False, "message": exc.message}
    return {"ok": True, "message": f"{n} files match their sha256; {signature}"}


def cmd_info(args):
    return {"cpu": cpuinfo(), "conditions": conditions(args.dir), "python": platform.python_version(),
            "python_executable": sys.executable, "os": platform.platform(), "kernel": platform.release(),
            "runtimes": runtimes(), "install_hint": runtime_install_hint(),
            "integrity": installed_integrity(args.dir)}


COMMANDS = {"verify": cmd_verify, "check": cmd_check, "run": cmd_run, "bench": cmd_bench, "info": cmd_info}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="edgelift_agent")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--bundle", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--dir", default=".")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--delegate", default=None, choices=("neon", "builtin", "xnnpack"),
                        help="run: default the bundle's own (manifest delegate.kind)")
    parser.add_argument("--delegates", default="neon,builtin,xnnpack")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    # C code that prints to stdout must not corrupt the result line: stdout -> stderr until the end
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        try:
            result = COMMANDS[args.command](args)
            result.update(ok=True, command=args.command, protocol=PROTOCOL)
            code = 0
        except StepFailed as exc:
            result = dict(exc.extra, ok=False, command=args.command, step=exc.step, message=exc.message,
                          hint=exc.hint, protocol=PROTOCOL)
            code = exc.code
        except Exception as exc:  # an agent bug: still one result line
            result = {"ok": False, "command": args.command, "step": args.command, "protocol": PROTOCOL,
                      "message": f"agent error: {type(exc).__name__}: {exc}", "hint": None}
            code = 1
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
        os.close(real_stdout)
    emit(result)
    return code


if __name__ == "__main__":
    sys.exit(main())
