"""Lower a .tflite graph (main subgraph) to one JAX function, batched with vmap and compiled with jit."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgelift.errors import UnsupportedModelError
from edgelift.tflite_model import TFLiteModel, load

from . import (
    folding,
    ops_activations,
    ops_float,
    ops_int8,
    ops_matmul,
    ops_mean,
    ops_movement,
    ops_reduce,
    ops_resize,
    ops_transpose_conv,
    shapes,
)
from .common import Ctx, Unsupported

SUPPORTED_TYPES = ("INT8", "FLOAT32")
INT8_LOWERINGS = {**ops_int8.LOWERINGS, **ops_activations.LOWERINGS, **ops_movement.LOWERINGS,
                  **ops_resize.LOWERINGS, **ops_reduce.LOWERINGS, **ops_mean.LOWERINGS,
                  **ops_transpose_conv.LOWERINGS, **ops_matmul.LOWERINGS}


def x64():
    """The 64-bit context every trace and call of a lowered function runs in (local, not global)."""
    import jax

    return jax.enable_x64(True)


@dataclass
class TensorSpec:
    name: str
    shape: tuple[int, ...]  # per sample, the model's batch-1 shape
    dtype: np.dtype
    scale: float | None
    zero_point: int | None


class Lowered:
    """The lowered graph. `per_sample(*xs)` takes arrays of the model's input shapes (batch 1);
    `batched(*xs)` takes arrays with one more leading axis (samples) and is jit-compiled."""

    def __init__(self, model: TFLiteModel, fn: Callable, ctx: Ctx, outputs: list[int]):
        import jax

        self.model = model
        self.ctx = ctx
        self.per_sample = fn
        self.inputs = [_spec(t) for t in model.input_tensors]
        self.out_index = list(outputs)
        self.outputs = [_spec(model.tensors[i]) for i in outputs]
        self._vmapped = jax.vmap(fn)
        self.batched = jax.jit(self._vmapped)

    def __call__(self, *xs):
        with x64():
            return self.batched(*xs)

    @property
    def largest_activation(self) -> int:
        """Elements of the largest tensor one sample produces (what sizes the int32 accumulators)."""
        sizes = [int(np.prod(self.model.tensors[i].shape)) for op in self.model.operators for i in op.outputs]
        return max(sizes, default=1)

    def stepped(self, batch: int, step: int) -> Callable:
        """jit-compiled function of `batch` samples that runs them `step` at a time inside one XLA call.

        On a CPU, a whole batch of MobileNetV2's 112x112x96 int32 accumulators is ~150 MB, written and read
        back from memory; a few samples at a time stay in cache (batch 32 in steps of 4: 92 -> 110 img/s).
        """
        import jax

        if step >= batch:
            return self.batched
        if batch % step:
            raise ValueError(f"batch {batch} is not a multiple of step {step}")

        def run(*xs):
            grouped = [x.reshape(batch // step, step, *x.shape[1:]) for x in xs]
            outs = jax.lax.map(lambda g: self._vmapped(*g), grouped)
            return [o.reshape(batch, *o.shape[2:]) for o in outs]

        return jax.jit(run)


def _spec(t) -> TensorSpec:
    q = t.is_quantized
    return TensorSpec(t.name, t.shape, t.dtype, float(t.scales[0]) if q else None,
                      int(t.zero_points[0]) if q else None)


def _table_for(model: TFLiteModel, op, consts: dict) -> dict:
    if op.op_name in ("QUANTIZE", "DEQUANTIZE"):
        return INT8_LOWERINGS
    out_type = model.tensors[op.outputs[0]].type_name
    data_inputs = op.inputs[:1] if op.op_name == "RESHAPE" else op.inputs  # RESHAPE's shape operand is int32
    in_types = [model.tensors[i].type_name for i in data_inputs if i >= 0 and i not in consts]
    types = {out_type, *in_types}
    if types <= {"FLOAT32"}:
        return ops_float.LOWERINGS
    if types <= {"INT8"}:
        return INT8_LOWERINGS
    raise Unsupported(f"tensor types {sorted(types)} (the GPU path lowers all-INT8 or all-FLOAT32 nodes)")


def lower(model, *, accumulate: str | None = None, depthwise: str | None = None,
          outputs: list[int] | None = None) -> Lowered:
    """Lower `model` (path, bytes or TFLiteModel). Raises UnsupportedModelError naming the op and node index
    for anything it cannot compute exactly.

    accumulate: "int" (XLA integer conv/dot, the default on the CPU) or "f32" (exact float32 chunks, the
    default on a GPU); depthwise: "taps" (default) or "conv"; outputs: tensor indices to return instead of
    the model's outputs (intermediate activations, for per-layer comparison).
    """
    file_model = load(model)
    if accumulate is None:
        accumulate = "f32" if default_platform() == "gpu" else "int"
    if accumulate not in ("int", "f32"):
        raise ValueError(accumulate)
    m = shapes.ShapedModel(file_model)  # real per-sample shapes, filled in node by node
    ctx = Ctx(m, accumulate=accumulate, depthwise=depthwise or "taps")
    if m.num_subgraphs != 1:
        ops = m.op_histogram()
        raise UnsupportedModelError(
            f"the model has {m.num_subgraphs} subgraphs (ops: {', '.join(ops)}); the GPU path lowers one",
            hint="validate it with --backend litert",
        )
    for t in [*m.input_tensors, *m.output_tensors]:
        if t.type_name not in SUPPORTED_TYPES:
            raise UnsupportedModelError(f"model input/output {t.name!r} has type {t.type_name}; "
                                        f"the GPU path handles {', '.join(SUPPORTED_TYPES)}",
                                        hint="validate it with --backend litert")
        if not t.shape or t.shape[0] != 1:
            raise UnsupportedModelError(f"model input/output {t.name!r} has shape {t.shape}; the GPU path batches "
                                        "models whose first dimension is 1", hint="convert with batch size 1")
    consts: dict[int, np.ndarray] = {t.index: t.data for t in m.tensors if t.data is not None}
    ctx.consts = consts
    steps, refused = [], []
    with x64():  # the lowerings trace (shapes.after_lowering) in the 64-bit context they run in
        for op in m.operators:
            if folding.foldable(m, op, consts):
                try:
                    folding.fold(m, op, consts)
                    continue
                except Unsupported:
                    pass
            try:
                if op.is_custom:
                    raise Unsupported("custom ops are not lowered")
                table = _table_for(m, op, consts)
                if op.op_name not in table:
                    raise Unsupported("no exact lowering for this op")
                shapes.before_lowering(m, op)
                fn = table[op.op_name](ctx, op)
                shapes.after_lowering(m, op, fn, consts)
            except Unsupported as exc:
                refused.append((f"node {op.index} ({op.op_name})", str(exc)))
                continue
            steps.append((op, fn))
    if refused:
        # every node that cannot be lowered, not only the first, so one run tells the whole story
        what = (f"{refused[0][0]} exactly: {refused[0][1]}" if len(refused) == 1 else
                f"{len(refused)} nodes exactly: " + "; ".join(f"{n}: {why}" for n, why in refused))
        raise UnsupportedModelError(
            f"cannot lower {what}",
            hint=f"the GPU path lowers {', '.join(sorted(INT8_LOWERINGS))}; validate this model with "
                 "--backend litert",
        )

    out_idx = list(m.outputs if outputs is None else outputs)
    produced = set(m.inputs) | {i for op, _ in steps for i in op.outputs}
    missing = [i for i in out_idx if i not in produced]
    if missing:
        raise UnsupportedModelError(f"tensors {missing} are not activations of this model",
                                    hint="pick indices of operator outputs")

    def run(*xs):
        import jax.numpy as jnp

        env = {i: x for i, x in zip(m.inputs, xs, strict=True)}
        for op, fn in steps:
            args = [env[i] if i in env else (jnp.asarray(consts[i]) if i in consts else None) for i in op.inputs]
            for i, v in zip(op.outputs, fn(args), strict=True):
                env[i] = v
        return [env[i] for i in out_idx]

    with x64():
        return Lowered(m, run, ctx, out_idx)


def default_platform() -> str:
    import jax

    with contextlib.suppress(RuntimeError):
        if jax.devices("gpu"):
            return "gpu"
    return "cpu"
