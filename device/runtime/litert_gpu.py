"""`--backend litert-gpu`: a float model on LiteRT's own GPU accelerator (CompiledModel, WebGPU over Vulkan).

For float models only: LiteRT's GPU accelerator computes in floating point, so for an int8 model it would be an
approximation of what the Pi computes; the exact path for those is `--backend gpu`. The accelerator is asked
for alone, without the CPU as a fallback, so a model never ends up on the CPU without the user knowing: a model
the GPU cannot take whole, or a machine without a usable GPU, is an error that says so.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import sys
from typing import Any

import numpy as np

from ...errors import RuntimeUnavailableError, UnsupportedModelError
from ...native_stderr import captured
from .runner import Runner, load_interpreter, model_bytes

ACCELERATORS = ("gpu", "cpu")  # "cpu" runs the same CompiledModel plumbing on the CPU accelerator (tests)


@functools.cache
def _quiet_native_exit() -> None:
    """Once a CompiledModel has run, LiteRT keeps its environment to process exit and then logs each accelerator
    it destroys (INFO lines on fd 2, after edgelift's last word). Point fd 2 at /dev/null at exit, after Python's
    own last messages. Registered once (cached)."""

    def silence() -> None:
        sys.stderr.flush()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)

    atexit.register(silence)


def _reason(lines: list[str], failure: str) -> str:
    """LiteRT's own words for the failure: its ERROR lines, else the exception's."""
    errors = [ln.split("]", 1)[-1].strip() for ln in lines if ln.startswith("ERROR")]
    errors += [ln.split(":", 1)[-1].strip() for ln in lines if "Couldn't load Vulkan" in ln]  # no loader at all
    return "; ".join(dict.fromkeys(errors)) or failure


def _check_float(meta: Runner, label: str) -> None:
    interp = meta._interp
    kinds = {np.dtype(d["dtype"]).name for d in interp.get_tensor_details()
             if d["quantization_parameters"]["scales"].size and np.dtype(d["dtype"]).kind in "iu"}
    if kinds:
        raise UnsupportedModelError(
            f"{label} is quantized ({', '.join(sorted(kinds))} tensors); LiteRT's GPU accelerator computes in "
            "floating point, so its outputs would not be what the Pi's integer kernels compute",
            hint="use --backend gpu (exact integer XLA path) for quantized models",
        )


class LiteRTGpuEngine:
    """A float .tflite on LiteRT's CompiledModel with one hardware accelerator (the Engine interface)."""

    def __init__(self, model: str | os.PathLike | bytes, accelerator: str = "gpu"):
        if accelerator not in ACCELERATORS:
            raise ValueError(f"accelerator {accelerator!r}; known: {ACCELERATORS}")
        self.meta = load_interpreter(model, "builtin", 1)  # checks the file; shapes and input checks
        label = repr(self.meta.model_path) if self.meta.model_path else "the model"
        _check_float(self.meta, label)
        try:
            import ai_edge_litert
            from ai_edge_litert.compiled_model import CompiledModel
            from ai_edge_litert.environment import Environment
            from ai_edge_litert.hardware_accelerator import HardwareAccelerator
        except ImportError:
            raise RuntimeUnavailableError(
                f"{self.meta.runtime} has no CompiledModel API; --backend litert-gpu needs ai-edge-litert 2.x",
                hint="pip install 'ai-edge-litert==2.3.0', or use --backend gpu") from None
        content = model_bytes(model)[0]
        flag = HardwareAccelerator.GPU if accelerator == "gpu" else HardwareAccelerator.CPU
        self.compiled = self._inputs = self._outputs = None
        with captured() as log:  # LiteRT logs each accelerator it registers (and destroys)
            self._env = Environment.create(runtime_path=os.path.dirname(ai_edge_litert.__file__))
            failure = None
            try:
                self.compiled = CompiledModel.from_buffer(bytes(content), hardware_accel=flag, environment=self._env)
            except RuntimeError as exc:
                failure = " ".join(str(exc).split())  # keep no traceback: its frames hold the environment
            if failure is not None:
                self._release()
        if failure is not None:
            reason = _reason(log, failure)
            if accelerator == "gpu" and "adapter" in reason.lower():
                raise RuntimeUnavailableError(
                    f"LiteRT's GPU accelerator (WebGPU over Vulkan) found no usable GPU here: {reason}",
                    hint="run on a machine with a GPU and its Vulkan driver (Debian: libvulkan1 and the vendor's ICD; "
                         "`vulkaninfo` lists it); CPU-only Vulkan (llvmpipe) is not taken. Or use --backend gpu "
                         "(XLA: CUDA, or the CPU)") from None
            raise UnsupportedModelError(
                f"LiteRT's {accelerator.upper()} accelerator cannot compile {label}: {reason}",
                hint="use --backend litert (interpreter) or --backend gpu") from None
        signatures = list(self.compiled.get_signature_list())
        problem = None
        if not self.compiled.is_fully_accelerated():
            problem = (f"LiteRT's {accelerator.upper()} accelerator takes only part of {label}; the rest would run "
                       "on the CPU")
        elif not signatures:
            problem = f"{label} has no signature, which LiteRT's CompiledModel needs to address its inputs"
        if problem is not None:
            with captured():
                self._release()
            raise UnsupportedModelError(problem, hint="use --backend litert for this model")
        self.accelerator = accelerator
        signature = signatures[0]
        # CompiledModel orders inputs by signature; validate passes them in the interpreter's order
        by_tensor = {d["index"]: k for k, d in enumerate(self.compiled.get_input_tensor_details(signature).values())}
        self._in_order = [by_tensor[d["index"]] for d in self.meta.input_details]
        out_sig = list(self.compiled.get_output_tensor_details(signature).values())
        by_tensor = {d["index"]: k for k, d in enumerate(out_sig)}
        self._out_order = [by_tensor[d["index"]] for d in self.meta.output_details]
        self._inputs = self.compiled.create_input_buffers(0)
        self._outputs = self.compiled.create_output_buffers(0)

    @property
    def input_details(self) -> list[dict[str, Any]]:
        return self.meta.input_details

    @property
    def output_details(self) -> list[dict[str, Any]]:
        return self.meta.output_details

    def predict_raw(self, x) -> list[np.ndarray]:
        arrays, n = self.meta._split(x, float_in=False)
        _quiet_native_exit()
        outs = [np.empty((n, *self.meta._per_sample_shape(d)), np.dtype(d["dtype"])) for d in self.output_details]
        failure = None
        with captured() as log:  # the first buffer write sets up (and logs) another environment
            try:
                for i in range(n):
                    for arr, k in zip(arrays, self._in_order, strict=True):
                        self._inputs[k].write(np.ascontiguousarray(arr[i:i + 1]))
                    self.compiled.run_by_index(0, self._inputs, self._outputs)
                    for out, k in zip(outs, self._out_order, strict=True):
                        out[i] = self._outputs[k].read(out[i].size, out.dtype).reshape(out.shape[1:])
            except RuntimeError as exc:
                failure = " ".join(str(exc).split())
        if failure is not None:
            raise RuntimeUnavailableError(f"LiteRT's {self.accelerator.upper()} accelerator failed while running: "
                                          f"{_reason(log, failure)}", hint="use --backend litert") from None
        return outs

    def predict(self, x) -> list[np.ndarray]:
        return self.predict_raw(x)  # float in, float out

    def describe(self) -> str:
        where = "GPU accelerator (WebGPU)" if self.accelerator == "gpu" else "CPU accelerator"
        return f"{self.meta.runtime} CompiledModel on the {where}, fully accelerated"

    def _release(self) -> None:
        for buffer in [*(self._inputs or []), *(self._outputs or [])]:
            buffer.destroy()  # a buffer that has been run holds the environment until destroyed
        self.compiled = self._inputs = self._outputs = None
        self._env = None
        gc.collect()  # the environment's destructor logs to fd 2: let it run now, while that is captured

    def close(self) -> None:
        with captured():
            self._release()
        self.meta.close()
