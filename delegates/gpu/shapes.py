"""Per-sample shapes as the arrays really have them, not as the file stores them.

A dynamic-batch graph computes its shapes at run time (SHAPE -> GATHER -> REDUCE_PROD -> PACK -> RESHAPE), and
the converter stores placeholders for the tensors downstream ([1, 1] for what is really [256, 96]). The
lowering therefore propagates real shapes: every lowering reads `ctx.model`, a ShapedModel whose tensors carry
the shapes their producers really give (taken from the traced function with jax.eval_shape), and the folded
int32 shape arithmetic sees them too.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .common import Unsupported

# ops whose output is the broadcast of their data inputs: when an input's real shape differs from the file's,
# so does the output's, and a lowering that reads the output shape must see the real one before it traces
ELEMENTWISE = frozenset({
    "ADD", "MUL", "SUB", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "PRELU", "LOGISTIC", "HARD_SWISH",
    "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "TANH", "ELU", "GELU", "RSQRT", "QUANTIZE", "DEQUANTIZE",
    "SOFTMAX",
})


class ShapedModel:
    """A TFLiteModel whose `tensors` hold real per-sample shapes; everything else is the model's own."""

    def __init__(self, model):
        self._model = model
        self.tensors = list(model.tensors)

    def __getattr__(self, name):
        return getattr(self._model, name)

    @property
    def input_tensors(self):
        return [self.tensors[i] for i in self._model.inputs]

    @property
    def output_tensors(self):
        return [self.tensors[i] for i in self._model.outputs]

    def set_shape(self, index: int, shape) -> None:
        shape = tuple(int(d) for d in shape)
        if self.tensors[index].shape != shape:
            self.tensors[index] = dataclasses.replace(self.tensors[index], shape=shape)

    def differs(self, index: int) -> bool:
        """True when tensor `index` really has another shape than the file stores."""
        return self.tensors[index].shape != self._model.tensors[index].shape


def before_lowering(view: ShapedModel, op) -> None:
    """Give an elementwise op's outputs the broadcast of its inputs' real shapes when those differ from the
    file's (other ops compute their output shape from their inputs and operands themselves)."""
    ins = [i for i in op.inputs if i >= 0]
    if op.op_name not in ELEMENTWISE or not any(view.differs(i) for i in ins):
        return
    try:
        shape = np.broadcast_shapes(*(view.tensors[i].shape for i in ins))
    except ValueError as exc:
        raise Unsupported(f"inputs of shapes {[view.tensors[i].shape for i in ins]} do not broadcast") from exc
    for o in op.outputs:
        view.set_shape(o, shape)


def after_lowering(view: ShapedModel, op, fn, consts: dict) -> None:
    """Trace `fn` on the inputs' real shapes and record the shapes it produces (the arrays' truth).

    Only where run-time values enter: an input whose real shape differs from the file's, or a folded operand
    (a shape computed from SHAPE). Elsewhere the converter's static shapes hold, and tracing every node would
    triple the lowering time of a 700-node graph."""
    import jax

    ins = [i for i in op.inputs if i >= 0]
    if not any(view.differs(i) or (i in consts and view.tensors[i].data is None) for i in ins):
        return
    args = []
    for i in op.inputs:
        if i < 0:
            args.append(None)
        elif i in consts:
            v = np.asarray(consts[i])
            args.append(jax.ShapeDtypeStruct(v.shape, v.dtype))
        else:
            t = view.tensors[i]
            args.append(jax.ShapeDtypeStruct(t.shape, t.dtype))
    try:
        outs = jax.eval_shape(fn, args)
    except (TypeError, ValueError, IndexError) as exc:
        shapes = [view.tensors[i].shape for i in op.inputs if i >= 0]
        raise Unsupported(f"the lowering does not trace on the real input shapes {shapes}: {exc}") from exc
    for o, out in zip(op.outputs, outs, strict=True):
        view.set_shape(o, out.shape)
