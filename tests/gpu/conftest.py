"""Helpers for the GPU-path tests: the LiteRT builtin reference, exact comparison with a readable failure."""

from __future__ import annotations

import numpy as np
import pytest


def litert_reference(model: bytes, xs, tensors: list[int] | None = None) -> list[np.ndarray]:
    """Run LiteRT's builtin kernels (BUILTIN_WITHOUT_DEFAULT_DELEGATES) sample by sample; outputs in the model's
    output order (or the given tensor indices, intermediate activations included), first axis = samples."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    xs = xs if isinstance(xs, (list, tuple)) else [xs]
    it = Interpreter(model_content=model, experimental_preserve_all_tensors=tensors is not None,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    from edgelift.tflite_model import load

    m = load(model)
    wanted = list(m.outputs if tensors is None else tensors)
    outs: list[list[np.ndarray]] = [[] for _ in wanted]
    for k in range(len(xs[0])):
        for tensor_index, x in zip(m.inputs, xs, strict=True):
            it.set_tensor(tensor_index, x[k:k + 1].reshape(m.tensors[tensor_index].shape))
        it.invoke()
        for r, tensor_index in zip(outs, wanted, strict=True):
            r.append(it.get_tensor(tensor_index)[0].copy())
    return [np.stack(r) for r in outs]


def assert_identical(got: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """Zero tolerance; on failure name the first differing index, both values, the count and the shape."""
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    diff = np.argwhere(got != expected)
    if diff.size:
        i = tuple(diff[0])
        pytest.fail(f"{what}: {len(diff)} of {got.size} values differ (shape {got.shape}); first at {i}: "
                    f"expected {expected[i]}, got {got[i]}")


def random_int8(shape, n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, (n, *shape)).astype(np.int8)
