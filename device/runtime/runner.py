"""One interpreter interface over LiteRT (`ai_edge_litert`) and `tflite_runtime`, with one delegate loaded.

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

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import (
    DataError,
    DelegateError,
    InvalidArgumentError,
    InvalidModelError,
    ModelNotFoundError,
)
from .delegates import KNOWN_DELEGATES, check_delegate_name, load_external_delegate, neon_library_path, neon_options
from .partition import partition_of
from .prechecks import check_model
from .selection import RuntimeInfo, get_runtime
from .tensors import dequantize, quantize, random_like


# -- the model -------------------------------------------------------------------------------------------
def model_bytes(model: str | os.PathLike | bytes | bytearray | memoryview) -> tuple[bytes, str | None]:
    """A .tflite (path, bytes or a TFLiteModel) as (its bytes, its path or None), refused unless it is TFLite."""
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
        self.partition_info = partition_of(interp, delegate)

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
        delegates = [load_external_delegate(rt, neon_library_path(), neon_options(threads, delegate_options))]
    elif delegate not in KNOWN_DELEGATES:
        delegates = [load_external_delegate(rt, delegate, delegate_options)]
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

