"""One interpreter interface over LiteRT (`ai_edge_litert`) and `tflite_runtime`, with delegate loading.

    runner = load_interpreter("model.tflite", delegate="xnnpack", threads=2)
    runner.partition      # "11 of 11 nodes delegated in 1 partition; not delegated: none"
    y = runner.predict(x)  # float in, float out: quantizes int8 inputs, dequantizes outputs

Delegates:
- ``builtin``: TFLite's builtin kernels with no default delegate (`BUILTIN_WITHOUT_DEFAULT_DELEGATES`), the
  project's numeric reference;
- ``xnnpack``: the runtime's default resolver, which applies XNNPACK (a performance peer, ±1 LSB on int8);
- ``neon``: edgelift's C delegate (`edgelift.delegates.neon.library_path()`), over the builtin kernels;
- a filesystem path to any TFLite external delegate library, with ``delegate_options`` (key/value strings).

Never imports TensorFlow: this module runs on the Raspberry Pi with numpy and a TFLite runtime only.
"""

from __future__ import annotations

import difflib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ... import quantization
from ...errors import (
    DataError,
    DelegateError,
    InvalidArgumentError,
    InvalidModelError,
    ModelNotFoundError,
    RuntimeUnavailableError,
)
from .prechecks import check_model

# preference order: the first importable one is used unless `runtime=` says otherwise
RUNTIMES: dict[str, str] = {
    "litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
}
_DISTRIBUTIONS = {"litert": "ai-edge-litert", "tflite_runtime": "tflite-runtime"}

KNOWN_DELEGATES: dict[str, str] = {
    "builtin": "TFLite builtin kernels, no default delegate (the numeric reference)",
    "xnnpack": "the runtime's default CPU path (XNNPACK)",
    "neon": "edgelift's NEON int8 delegate (edgelift.delegates.neon)",
}

_LIB_SUFFIXES = (".so", ".dylib", ".dll")


# -- runtime selection -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuntimeInfo:
    name: str  # "litert" or "tflite_runtime"
    version: str
    module: ModuleType = field(repr=False, compare=False)

    def __str__(self) -> str:
        return f"{_DISTRIBUTIONS.get(self.name, self.name)} {self.version}"


def _import_runtime(name: str) -> ModuleType | None:
    import importlib

    try:
        return importlib.import_module(RUNTIMES[name])
    except ImportError:
        return None


def _version_of(name: str, module: ModuleType) -> str:
    try:
        from importlib.metadata import version

        return version(_DISTRIBUTIONS[name])
    except Exception:  # noqa: BLE001 - metadata is optional (vendored runtimes)
        top = __import__(module.__name__.split(".")[0])
        return str(getattr(top, "__version__", "unknown"))


def available_runtimes() -> list[str]:
    """Names of the TFLite runtimes importable here, in preference order."""
    return [name for name in RUNTIMES if _import_runtime(name) is not None]


def get_runtime(runtime: str | None = None) -> RuntimeInfo:
    """The runtime to use: `runtime` by name, else the first of `RUNTIMES` that imports."""
    if runtime is not None and runtime not in RUNTIMES:
        raise InvalidArgumentError(
            f"unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}",
            hint="leave it out to use the first one installed",
        )
    for name in [runtime] if runtime else list(RUNTIMES):
        module = _import_runtime(name)
        if module is not None:
            return RuntimeInfo(name, _version_of(name, module), module)
    wanted = runtime or " or ".join(RUNTIMES)
    raise RuntimeUnavailableError(
        f"no TFLite runtime importable (tried {wanted})",
        hint="pip install ai-edge-litert (desktop) or tflite-runtime (Raspberry Pi OS)",
    )


# -- model and delegate arguments --------------------------------------------------------------------
def model_bytes(model: str | os.PathLike | bytes | bytearray | memoryview) -> tuple[bytes, str | None]:
    if isinstance(model, (bytes, bytearray, memoryview)):
        content, path = bytes(model), None
    else:
        if hasattr(model, "content") and isinstance(model.content, bytes):  # a TFLiteModel
            return model.content, getattr(model, "path", None)
        p = Path(model)
        if not p.exists():
            raise ModelNotFoundError(f"model file {str(p)!r} does not exist", hint="check the path")
        if p.is_dir():
            raise InvalidModelError(f"{str(p)!r} is a directory, not a .tflite file", hint="pass the .tflite file")
        content, path = p.read_bytes(), str(p)
    if len(content) < 8 or content[4:8] != b"TFL3":
        where = repr(path) if path else "the given bytes"
        raise InvalidModelError(
            f"{where} is not a TFLite flatbuffer (expected identifier 'TFL3' at byte 4, found {content[4:8]!r}, "
            f"{len(content)} bytes in all)",
            hint="pass a .tflite produced by `edgelift convert` or the TFLite converter",
        )
    return content, path


def is_delegate_path(delegate: str) -> bool:
    return os.sep in delegate or delegate.endswith(_LIB_SUFFIXES) or Path(delegate).is_file()


def check_delegate_name(delegate: str) -> str:
    """Normalize a delegate name; unknown names raise DelegateError listing the known ones."""
    if not isinstance(delegate, str) or not delegate.strip():
        raise DelegateError(
            f"delegate {delegate!r} is not a name or a path; known: {', '.join(KNOWN_DELEGATES)}",
            hint="or pass the path of a TFLite external delegate library (.so)",
        )
    name = delegate.strip()
    if name.lower() in KNOWN_DELEGATES:
        return name.lower()
    if is_delegate_path(name):
        return name
    close = difflib.get_close_matches(name.lower(), list(KNOWN_DELEGATES), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise DelegateError(
        f"unknown delegate {name!r}; known: {', '.join(KNOWN_DELEGATES)}, or a path to a delegate library",
        hint=hint + "a path must contain '/' or end in .so",
    )


def neon_library_path() -> str:
    """The NEON delegate library, or DelegateError saying why it is not there."""
    try:
        from ...delegates import neon
    except ImportError as exc:
        raise DelegateError(f"the NEON delegate package cannot be imported: {exc}",
                            hint="reinstall edgelift (pip install -e .)") from None
    fn = getattr(neon, "library_path", None)
    if fn is None:
        raise DelegateError("the NEON delegate is not built in this installation (no library_path())",
                            hint="rebuild with `pip install -e .` or `make neon`")
    try:
        return str(fn())
    except Exception as exc:  # noqa: BLE001 - whatever library_path says is the reason
        raise DelegateError(f"the NEON delegate library is not available: {exc}",
                            hint="rebuild with `pip install -e .` or `make neon`") from None


def _neon_options(threads: int, options: dict[str, Any] | None) -> dict[str, str]:
    """The NEON delegate's options: its own defaults with our thread count and a quiet log (the partition
    report is ours), then whatever the caller passed."""
    from ...delegates import neon

    opts: dict[str, Any] = {"num_threads": threads, "log_level": "warning"}
    opts.update(options or {})
    make = getattr(neon, "delegate_options", None)
    if make is not None and set(opts) <= {"num_threads", "kernels", "log_level"}:
        n = opts.get("num_threads", 1)
        return make(num_threads=int(n) if str(n).isdigit() else n, kernels=opts.get("kernels", "auto"),
                    log_level=opts.get("log_level", "warning"))
    return {str(k): str(v) for k, v in opts.items()}


def _why_not_loadable(library: str, exc: OSError) -> str:
    """dlopen's reason, made specific: for another architecture it only says "No such file or directory"."""
    from edgelift.delegates.neon import host_arch, library_arch

    try:
        found = library_arch(library)
    except DelegateError:
        return "it is not an ELF shared library"
    if found != host_arch():
        return f"it was built for {found}, but this machine is {host_arch()}"
    return " ".join(str(exc).split())


def _load_external_delegate(rt: RuntimeInfo, library: str, options: dict[str, Any] | None):
    if not Path(library).exists():
        raise DelegateError(f"delegate library {library!r} does not exist",
                            hint="check the path, or use one of: " + ", ".join(KNOWN_DELEGATES))
    opts = {str(k): str(v) for k, v in (options or {}).items()}
    # open it the way the runtime does (ctypes) first: a library that is not a delegate then fails here with
    # the loader's own message, instead of inside the runtime's Delegate object (which then fails again
    # noisily in its finalizer)
    import ctypes

    try:
        lib = ctypes.CDLL(library)
    except OSError as exc:
        raise DelegateError(
            f"delegate library {library!r} failed to load ({rt}): {_why_not_loadable(library, exc)}",
            hint="pass a shared library built for this machine's architecture (check with `file`)",
        ) from None
    missing = [s for s in ("tflite_plugin_create_delegate", "tflite_plugin_destroy_delegate") if not hasattr(lib, s)]
    if missing:
        raise DelegateError(
            f"delegate library {library!r} is not a TFLite external delegate: it does not export "
            f"{' and '.join(missing)}",
            hint="build it with the external delegate entry points, or pass another library",
        )
    try:
        return rt.module.load_delegate(library, opts)
    except (ValueError, OSError, RuntimeError, AttributeError) as exc:
        msg = " ".join(str(exc).split())
        raise DelegateError(
            f"delegate library {library!r} failed to load ({rt}): {msg}",
            hint="that message is the delegate's own: check the options passed to it"
            + (f" ({', '.join(f'{k}={v}' for k, v in opts.items())})" if opts else "")
            + " and that it was built for this machine and runtime version",
        ) from None


# -- the runner --------------------------------------------------------------------------------------
@dataclass
class PartitionInfo:
    """Which nodes each delegate took, derived from the interpreter's node list after delegation."""

    total_nodes: int
    delegated_nodes: list[int]
    partitions: list[list[int]]  # original node indices per delegate kernel
    not_delegated: list[tuple[int, str]]  # (node index, op name)
    delegate: str

    @property
    def summary(self) -> str:
        n, m, k = len(self.delegated_nodes), self.total_nodes, len(self.partitions)
        if self.delegate == "builtin":
            return f"0 of {m} nodes delegated (builtin kernels run all {m})"
        left = _op_counts([op for _, op in self.not_delegated])
        part = "partition" if k == 1 else "partitions"
        return f"{n} of {m} nodes delegated in {k} {part}; not delegated: {left or 'none'}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "delegate": self.delegate,
            "total_nodes": self.total_nodes,
            "delegated_nodes": len(self.delegated_nodes),
            "partitions": [list(p) for p in self.partitions],
            "not_delegated": [{"node": i, "op": op} for i, op in self.not_delegated],
            "summary": self.summary,
        }


def _op_counts(names: list[str]) -> str:
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return ", ".join(f"{k} x{v}" if v > 1 else k for k, v in counts.items())


def _partition_of(interp, delegate: str) -> PartitionInfo:
    """Delegate kernels appear as extra nodes named DELEGATE after the model's own nodes; their inputs and
    outputs are the partition's boundary. Walk back from each kernel's outputs to its inputs through the
    original producers to find the nodes it replaced."""
    raw = interp._interpreter
    count = raw.NumNodes()
    names = [raw.NodeName(i) for i in range(count)]
    original = [i for i in range(count) if names[i] != "DELEGATE"]
    kernels = [i for i in range(count) if names[i] == "DELEGATE"]
    producer: dict[int, int] = {}
    for i in original:
        for t in raw.NodeOutputs(i):
            producer[int(t)] = i
    partitions: list[list[int]] = []
    taken: set[int] = set()
    for k in kernels:
        boundary = {int(t) for t in raw.NodeInputs(k)}
        stack = [int(t) for t in raw.NodeOutputs(k)]
        members: set[int] = set()
        seen: set[int] = set()
        while stack:
            t = stack.pop()
            if t in seen or t in boundary or t < 0:
                continue
            seen.add(t)
            p = producer.get(t)
            if p is None or p in members:
                continue
            members.add(p)
            stack.extend(int(x) for x in raw.NodeInputs(p))
        partitions.append(sorted(members))
        taken |= members
    not_delegated = [(i, names[i]) for i in original if i not in taken]
    return PartitionInfo(len(original), sorted(taken), partitions, not_delegated, delegate)


def quantize(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Float samples to the tensor's dtype with its (per-tensor) scale and zero point, as LiteRT's QUANTIZE
    (edgelift.quantization); float tensors pass."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return np.asarray(x, dtype=dtype)
    scale, zp = _qparams(detail)
    if scale == 0.0:  # not quantized: an integer input (ids, lengths): values pass as they are
        return np.asarray(x).astype(dtype)
    return quantization.quantize(x, scale, zp, dtype)


def dequantize(q: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return np.asarray(q, dtype=np.float32)
    scale, zp = _qparams(detail)
    if scale == 0.0:
        return np.asarray(q).astype(np.float32)
    return quantization.dequantize(q, scale, zp)


def _qparams(detail: dict[str, Any]) -> tuple[float, int]:
    qp = detail.get("quantization_parameters") or {}
    scales = np.asarray(qp.get("scales", []))
    zps = np.asarray(qp.get("zero_points", []))
    if scales.size == 0:
        scale, zp = detail.get("quantization", (0.0, 0))
        return float(scale), int(zp)
    return float(scales.reshape(-1)[0]), int(zps.reshape(-1)[0]) if zps.size else 0


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + ")"


class Runner:
    """One loaded interpreter with its delegate. Not thread-safe; close() or let it go out of scope."""

    def __init__(self, interp, runtime: RuntimeInfo, delegate: str, delegates: list, load_seconds: float,
                 model_path: str | None, model_size: int, preserve_all_tensors: bool = False):
        self._interp = interp
        self._delegates = delegates  # keep the delegate objects alive as long as the interpreter
        self.runtime = runtime
        self.runtime_name = str(runtime)
        self.delegate_name = delegate
        self.load_seconds = load_seconds
        self.model_path = model_path
        self.model_size = model_size
        self.preserve_all_tensors = preserve_all_tensors
        self.input_details: list[dict[str, Any]] = interp.get_input_details()
        self.output_details: list[dict[str, Any]] = interp.get_output_details()
        self.partition_info = _partition_of(interp, delegate)

    # -- description ---
    @property
    def partition(self) -> str:
        return self.partition_info.summary

    def describe(self) -> str:
        return f"{self.runtime_name}, delegate {self.delegate_name}: {self.partition}"

    @property
    def interpreter(self):
        """The underlying runtime interpreter (for tensor inspection)."""
        return self._interp

    # -- one invocation ---
    def _check_inputs(self, inputs) -> list[np.ndarray]:
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        inputs = list(inputs)
        if len(inputs) != len(self.input_details):
            raise DataError(
                f"the model has {len(self.input_details)} input(s) "
                f"({', '.join(d['name'] for d in self.input_details)}); {len(inputs)} array(s) were given",
                hint="pass one array per model input, in the model's input order",
            )
        return [np.asarray(x) for x in inputs]

    max_batch = 64  # samples per invocation when the model's batch axis is dynamic

    def _dynamic_batch(self) -> bool:
        # external delegates (neon, libraries) are prepared for the shapes they were given; tflite-runtime
        # 2.14 does not re-apply them after a resize, so those run at the model's own batch, one call per sample
        if self.delegate_name not in ("builtin", "xnnpack"):
            return False
        sig = self.input_details[0].get("shape_signature")
        return sig is not None and len(sig) > 0 and int(sig[0]) == -1

    def _ensure_batch(self, n: int) -> None:
        """Resize a model whose batch axis is dynamic (shape signature -1) to n samples."""
        if int(self.input_details[0]["shape"][0]) == n:
            return
        for d in self.input_details:
            self._interp.resize_tensor_input(d["index"], [n, *[int(s) for s in d["shape"][1:]]])
        self._interp.allocate_tensors()
        self.input_details = self._interp.get_input_details()
        self.output_details = self._interp.get_output_details()

    def run(self, inputs) -> list[np.ndarray]:
        """One invocation with raw dtypes (int8 for an int8 model); the batch is the model's own, or any batch
        when the model's batch axis is dynamic."""
        arrays = self._check_inputs(inputs)
        if arrays and arrays[0].ndim and self.input_details[0]["shape"].size and self._dynamic_batch():
            self._ensure_batch(int(arrays[0].shape[0]))
        for x, d in zip(arrays, self.input_details, strict=True):
            want = tuple(int(s) for s in d["shape"])
            if np.dtype(x.dtype) != np.dtype(d["dtype"]):
                raise DataError(
                    f"input {d['name']!r} got dtype {x.dtype}; the model expects {np.dtype(d['dtype']).name}",
                    hint="use predict() to quantize float data, or cast the array",
                )
            if tuple(x.shape) != want:
                raise DataError(
                    f"input {d['name']!r} got shape {_shape_str(x.shape)}; the model expects {_shape_str(want)}",
                    hint="use predict() to loop over a batch, or reshape the data",
                )
            self._interp.set_tensor(d["index"], x)
        self._interp.invoke()
        return [np.array(self._interp.get_tensor(d["index"])) for d in self.output_details]

    def invoke(self) -> None:
        """Invoke with whatever inputs are set (benchmark loop)."""
        self._interp.invoke()

    def set_inputs(self, inputs) -> None:
        for x, d in zip(self._check_inputs(inputs), self.input_details, strict=True):
            self._interp.set_tensor(d["index"], x)

    # -- whole batches ---
    def _per_sample_shape(self, d: dict[str, Any]) -> tuple[int, ...]:
        return tuple(int(s) for s in d["shape"][1:])

    def _split(self, x_batch, float_in: bool) -> tuple[list[np.ndarray], int]:
        arrays = self._check_inputs(x_batch)
        n = None
        out = []
        for x, d in zip(arrays, self.input_details, strict=True):
            want = self._per_sample_shape(d)
            if x.ndim == len(want):  # a single sample without the batch axis
                x = x[None]
            if tuple(x.shape[1:]) != want:
                raise DataError(
                    f"input {d['name']!r}: samples have shape {_shape_str(x.shape[1:])} "
                    f"(array {_shape_str(x.shape)}); the model expects {_shape_str(want)} per sample "
                    f"(model input {_shape_str(d['shape'])})",
                    hint="reshape or resize the data to the model's input shape",
                )
            if float_in:
                if x.dtype.kind not in "fiub":
                    raise DataError(f"input {d['name']!r}: dtype {x.dtype} is not numeric",
                                    hint="pass float data")
                x = quantize(x.astype(np.float32), d)
            elif np.dtype(x.dtype) != np.dtype(d["dtype"]):
                raise DataError(
                    f"input {d['name']!r} got dtype {x.dtype}; the model expects {np.dtype(d['dtype']).name}",
                    hint="use predict() for float data, or cast the array",
                )
            if n is not None and x.shape[0] != n:
                raise DataError(f"inputs have different sample counts ({n} and {x.shape[0]})",
                                hint="give every input the same number of samples")
            n = x.shape[0]
            out.append(x)
        return out, int(n or 0)

    def _run_batched(self, arrays: list[np.ndarray], n: int) -> list[np.ndarray]:
        shape = self.input_details[0]["shape"]
        if self._dynamic_batch() and n >= 1:
            step = min(n, self.max_batch)  # one invocation per chunk; memory stays bounded on big datasets
        else:
            step = max(int(shape[0]) if len(shape) else 1, 1)
        if n % step and not self._dynamic_batch():
            raise DataError(
                f"{n} samples cannot be split into the model's fixed batch of {step}",
                hint=f"pass a multiple of {step} samples",
            )
        chunks: list[list[np.ndarray]] = [[] for _ in self.output_details]
        for s in range(0, n, step):
            res = self.run([a[s:s + step] for a in arrays])
            for c, r in zip(chunks, res, strict=True):
                c.append(r)
        if not chunks or not chunks[0]:
            return [np.zeros((0, *d["shape"][1:]), d["dtype"]) for d in self.output_details]
        return [np.concatenate(c, axis=0) for c in chunks]

    def predict_raw(self, x_batch) -> list[np.ndarray]:
        """Raw dtypes in and out over a whole batch (first axis = samples)."""
        arrays, n = self._split(x_batch, float_in=False)
        return self._run_batched(arrays, n)

    def predict(self, x_batch) -> list[np.ndarray]:
        """Float in, float out: quantizes inputs to the model's input dtype, dequantizes outputs."""
        arrays, n = self._split(x_batch, float_in=True)
        outs = self._run_batched(arrays, n)
        return [dequantize(o, d) for o, d in zip(outs, self.output_details, strict=True)]

    def random_inputs(self, seed: int = 0, batch: int | None = None) -> list[np.ndarray]:
        """Random data of each input's dtype and shape (full integer range for int8, [-1, 1) for floats)."""
        return random_like(self.input_details, seed=seed, batch=batch)

    # -- intermediate tensors (needs preserve_all_tensors=True) ---
    def tensor(self, index: int) -> np.ndarray:
        return np.array(self._interp.get_tensor(index))

    def close(self) -> None:
        self._interp = None
        self._delegates = []

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def random_like(details: list[dict[str, Any]], seed: int = 0, batch: int | None = None) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for d in details:
        shape = [int(s) for s in d["shape"]]
        if batch is not None and shape:
            shape[0] = batch
        dtype = np.dtype(d["dtype"])
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            out.append(rng.integers(info.min, int(info.max) + 1, size=shape, dtype=dtype))
        elif dtype.kind == "b":
            out.append(rng.integers(0, 2, size=shape).astype(bool))
        else:
            out.append(rng.uniform(-1.0, 1.0, size=shape).astype(dtype))
    return out


def _builtin_refuses(mod, content: bytes, threads: int) -> str | None:
    """Why the runtime's builtin kernels cannot load and prepare the model, or None when they can: a delegate's
    failure on a model the builtin kernels refuse too is a bad model (exit 2), not a delegate problem."""
    try:
        interp = mod.Interpreter(model_content=content, num_threads=threads,
                                 experimental_op_resolver_type=mod.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        return " ".join(str(exc).split())
    return None


def load_interpreter(
    model: str | os.PathLike | bytes,
    delegate: str = "builtin",
    threads: int = 1,
    delegate_options: dict[str, Any] | None = None,
    runtime: str | None = None,
    *,
    preserve_all_tensors: bool = False,
) -> Runner:
    """Load a .tflite (path or bytes) on the chosen runtime with one delegate and allocate its tensors."""
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise InvalidArgumentError(f"threads must be a whole number >= 1, got {threads!r}",
                                   hint="use --threads 1 for the most repeatable timings")
    delegate = check_delegate_name(delegate)
    content, path = model_bytes(model)
    check_model(content, repr(path) if path else "the model")
    rt = get_runtime(runtime)
    mod = rt.module
    start = time.perf_counter()
    delegates = []
    if delegate == "neon":
        delegates = [_load_external_delegate(rt, neon_library_path(), _neon_options(threads, delegate_options))]
    elif delegate not in KNOWN_DELEGATES:
        delegates = [_load_external_delegate(rt, delegate, delegate_options)]
    elif delegate_options:
        raise InvalidArgumentError(
            f"delegate options {sorted(delegate_options)} given for {delegate!r}, which takes none",
            hint="options apply to 'neon' and to external delegate libraries",
        )
    kinds = mod.OpResolverType
    resolver = kinds.AUTO if delegate == "xnnpack" else kinds.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    try:
        interp = mod.Interpreter(
            model_content=content,
            experimental_delegates=delegates or None,
            num_threads=threads,
            experimental_op_resolver_type=resolver,
            experimental_preserve_all_tensors=preserve_all_tensors,
        )
    except (ValueError, RuntimeError) as exc:
        msg = " ".join(str(exc).split())
        where = repr(path) if path else "the model"
        if delegate != "builtin" and (why := _builtin_refuses(mod, content, threads)) is not None:
            raise InvalidModelError(f"{rt} cannot load {where}, with {delegate!r} or its builtin kernels: {why}",
                                    hint="check the model with `edgelift inspect`; re-export it") from None
        if delegates:
            raise DelegateError(f"delegate {delegate!r} refused {where} ({rt}): {msg}",
                                hint="its builtin kernels load it: try --delegate builtin") from None
        if delegate == "xnnpack":
            raise DelegateError(f"{rt} cannot load {where} with XNNPACK: {msg}",
                                hint="its builtin kernels load it: try --delegate builtin") from None
        raise InvalidModelError(f"{rt} cannot load {where}: {msg}",
                                hint="check the model with `edgelift inspect`; re-export it") from None
    try:
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        msg = " ".join(str(exc).split())
        if delegate != "builtin" and (why := _builtin_refuses(mod, content, threads)) is not None:
            raise InvalidModelError(f"{rt} cannot prepare {path or 'the model'}, with {delegate!r} or its builtin "
                                    f"kernels: {why}", hint="check the model with `edgelift inspect`; re-export it"
                                    ) from None
        if delegate != "builtin":  # the builtin kernels run it: say so, as a delegate's failure
            raise DelegateError(f"{rt} cannot prepare {path or 'the model'} with delegate {delegate!r}: {msg}",
                                hint="its builtin kernels prepare it: try --delegate builtin") from None
        raise InvalidModelError(f"{rt} cannot prepare {path or 'the model'} with its builtin kernels: {msg}",
                                hint="check the model with `edgelift inspect`; re-export it") from None
    elapsed = time.perf_counter() - start
    return Runner(interp, rt, delegate, delegates, elapsed, path, len(content), preserve_all_tensors)
