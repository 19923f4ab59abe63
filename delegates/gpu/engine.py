"""GpuEngine: run a .tflite through its lowered XLA function, in fixed-size batches, on CUDA or the CPU."""

from __future__ import annotations

import os

import numpy as np

from edgelift.errors import DataError, InvalidArgumentError, RuntimeUnavailableError
from edgelift.quantization import dequantize, quantize

from .lowering import Lowered, default_platform, lower, x64

CPU_STEP_BYTES = 24 << 20  # int32 accumulators of one step's largest layer, on a CPU: about what the caches hold


def _jax():
    try:
        import jax
    except ImportError:
        raise RuntimeUnavailableError(
            "JAX is not installed; the GPU validation path needs it",
            hint="pip install 'edgelift[gpu]' (CUDA) or 'jax==0.10.2' (CPU)",
        ) from None
    return jax


class GpuEngine:
    """The exact-integer XLA executor.

    GpuEngine(model_bytes_or_path, batch=32): `predict_raw(x)` takes arrays of the model input dtype (first
    axis = samples, any count; a list for multi-input models) and returns the raw outputs; `predict(x)`
    quantizes float inputs as TFLite's QUANTIZE does and dequantizes int8 outputs. `outputs=[tensor indices]`
    returns those activations instead of the model's outputs (per-layer comparison). `step`: samples computed
    at a time inside one call (default: the whole batch on a GPU, a cache-sized step on a CPU).
    """

    def __init__(self, model, batch: int = 32, *, platform: str | None = None, accumulate: str | None = None,
                 depthwise: str | None = None, outputs: list[int] | None = None, step: int | None = None):
        jax = _jax()
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            raise InvalidArgumentError(f"batch must be a positive integer, got {batch!r}", hint="e.g. --batch 32")
        self.batch = batch
        platform = platform or default_platform()
        try:
            self.jax_device = jax.devices(platform)[0]
        except RuntimeError:
            raise RuntimeUnavailableError(f"JAX sees no {platform!r} device (it has: {jax.devices()})",
                                          hint="install the CUDA build: pip install 'edgelift[gpu]'") from None
        if accumulate is None:
            accumulate = "f32" if self.jax_device.platform == "gpu" else "int"
        if isinstance(model, os.PathLike):
            model = os.fspath(model)
        self.lowered: Lowered = lower(model, accumulate=accumulate, depthwise=depthwise, outputs=outputs)
        self.inputs = self.lowered.inputs
        self.outputs = self.lowered.outputs
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 1):
            raise InvalidArgumentError(f"step must be a positive integer, got {step!r}")
        self.step = self._default_step() if step is None else min(step, batch)
        if batch % self.step:
            raise InvalidArgumentError(f"batch {batch} is not a multiple of step {self.step}",
                                       hint=f"use a batch of {self.step * max(1, batch // self.step)}")
        self._run = self.lowered.stepped(batch, self.step)

    def _default_step(self) -> int:
        """Samples per step inside a call: the whole batch on a GPU; on a CPU, the largest power of two that
        divides the batch and keeps one step's int32 accumulators of the largest layer within CPU_STEP_BYTES."""
        if self.jax_device.platform != "cpu":
            return self.batch
        fit = max(1, CPU_STEP_BYTES // (4 * self.lowered.largest_activation))
        step = 1
        while step * 2 <= min(fit, self.batch) and self.batch % (step * 2) == 0:
            step *= 2
        return step

    @property
    def input_details(self) -> list[dict]:
        """The TFLite interpreter's get_input_details() shape, so validate treats both engines alike."""
        return [_details(self.lowered.model.tensors[i]) for i in self.lowered.model.inputs]

    @property
    def output_details(self) -> list[dict]:
        return [_details(self.lowered.model.tensors[i]) for i in self.lowered.out_index]

    @property
    def device(self) -> str:
        d = self.jax_device
        return f"{'cuda' if d.platform == 'gpu' else d.platform}:{d.id}"

    def describe(self) -> str:
        steps = f" in steps of {self.step}" if self.step < self.batch else ""
        return f"XLA on {self.device} ({self.lowered.ctx.accumulate} accumulation, batch {self.batch}{steps})"

    # -- running --------------------------------------------------------------------------------------
    def _check(self, xs) -> list[np.ndarray]:
        if isinstance(xs, np.ndarray) or not isinstance(xs, (list, tuple)):
            xs = [xs]
        if len(xs) != len(self.inputs):
            raise DataError(f"the model has {len(self.inputs)} inputs, got {len(xs)} arrays",
                            hint="pass a list with one array per model input")
        out = []
        n = None
        for x, spec in zip(xs, self.inputs, strict=True):
            x = np.asarray(x)
            sample = spec.shape[1:]
            if x.shape[1:] != sample:
                if x.ndim == len(spec.shape) + 1 and x.shape[1] == 1 and x.shape[2:] == sample:
                    x = x.reshape(x.shape[0], *sample)
                else:
                    raise DataError(f"input {spec.name!r} expects samples of shape {sample} (first axis = samples), "
                                    f"got an array of shape {x.shape}", hint="reshape the data to (N, *sample)")
            if n is not None and x.shape[0] != n:
                raise DataError(f"inputs have different sample counts ({n} and {x.shape[0]})")
            n = x.shape[0]
            out.append(x)
        return out

    def predict_raw(self, xs) -> list[np.ndarray]:
        jax = _jax()
        xs = self._check(xs)
        for x, spec in zip(xs, self.inputs, strict=True):
            if x.dtype != spec.dtype:
                raise DataError(f"input {spec.name!r} is {spec.dtype}, got {x.dtype} data",
                                hint="use predict() for float data, or cast/quantize it first")
        n = xs[0].shape[0]
        results: list[list[np.ndarray]] = [[] for _ in self.outputs]
        pending = None  # (outputs, k) of the batch in flight: JAX dispatches asynchronously, so the next batch
        # is prepared and queued before the previous one's results are copied out

        def collect(outs, k):
            for r, o in zip(results, outs, strict=True):
                r.append(np.asarray(o)[:k])

        with x64():
            for start in range(0, n, self.batch):
                chunk = [x[start:start + self.batch] for x in xs]
                k = chunk[0].shape[0]
                if k < self.batch:  # pad to the compiled batch size
                    chunk = [np.concatenate([c, np.repeat(c[:1], self.batch - k, axis=0)]) for c in chunk]
                args = [jax.device_put(c.reshape(self.batch, 1, *c.shape[1:]), self.jax_device) for c in chunk]
                outs = self._run(*args)
                if pending is not None:
                    collect(*pending)
                pending = (outs, k)
            if pending is not None:
                collect(*pending)
        # the computed shape, not the stored one: a dynamic-batch model stores placeholders ([1, 1, 9] for
        # [1, -1, 9])
        return [_samples(np.concatenate(r), n) if r else np.zeros((0, *spec.shape[1:]), spec.dtype)
                for r, spec in zip(results, self.outputs, strict=True)]

    def predict(self, xs) -> list[np.ndarray]:
        xs = self._check(xs)
        raw_in = []
        for x, spec in zip(xs, self.inputs, strict=True):
            if spec.dtype == np.int8 and x.dtype != np.int8:
                raw_in.append(quantize(np.asarray(x, np.float32), spec.scale, spec.zero_point))
            else:
                raw_in.append(x.astype(spec.dtype, copy=False))
        outs = self.predict_raw(raw_in)
        return [dequantize(o, s.scale, s.zero_point) if s.dtype == np.int8 else o
                for o, s in zip(outs, self.outputs, strict=True)]


def _details(t) -> dict:
    q = t.is_quantized
    return {
        "name": t.name,
        "index": t.index,
        "shape": np.array(t.shape, dtype=np.int32),
        "shape_signature": np.array(t.shape_signature or t.shape, dtype=np.int32),
        "dtype": t.dtype.type,
        "quantization": (float(t.scales[0]), int(t.zero_points[0])) if q else (0.0, 0),
        "quantization_parameters": {
            "scales": t.scales.astype(np.float32),
            "zero_points": t.zero_points.astype(np.int32),
            "quantized_dimension": t.quantized_dimension,
        },
    }


def _samples(out: np.ndarray, n: int) -> np.ndarray:
    """(n, 1, *sample) batched outputs as (n, *sample). An intermediate tensor of a dynamic-batch graph can
    lead with another axis ([256, 96] after a flattening RESHAPE); it keeps its whole per-sample shape."""
    if out.ndim < 2 or out.shape[1] != 1:
        return out
    return out.reshape(n, *out.shape[2:])
