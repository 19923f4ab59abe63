"""Pruning on real tf_keras models: one shot, TFMOT fine-tuning (unstructured, 2:4), edgelift's block pruning."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift.converters import masks
from edgelift.converters.policy import LayerPolicy
from edgelift.converters.prune import check_spec, parse_block, prune
from edgelift.converters.warn import ConvertWarning
from edgelift.errors import InvalidArgumentError
from tests.converters.conftest import arrays


def kernel(model, name):
    return model.get_layer(name).kernel.numpy()


def sparsity(w):
    return float(np.mean(w == 0))


def test_spec_validation():
    assert check_spec(0.75).sparsity == 0.75
    assert check_spec(None, "2:4").sparsity == 0.5
    assert parse_block("4X2") == (4, 2)
    for bad in (1.0, -0.1, 1.5, "abc"):
        with pytest.raises(InvalidArgumentError, match="outside \\[0, 1\\)|not a number"):
            check_spec(bad)
    with pytest.raises(InvalidArgumentError, match="2:4 sparsity is exactly 0.5"):
        check_spec(0.75, "2:4")
    with pytest.raises(InvalidArgumentError, match="--block '3' is not RxC"):
        parse_block("3")


def test_one_shot_warns_and_hits_the_target(model):
    before = kernel(model, "c1").copy()
    with pytest.warns(ConvertWarning, match="accuracy is unchecked"):
        out, info = prune(model, check_spec(0.6), LayerPolicy())
    for name in ("c2", "c3", "d1"):
        assert sparsity(kernel(out, name)) == pytest.approx(0.6, abs=0.01)
    np.testing.assert_array_equal(kernel(out, "c1"), before)  # kept dense
    assert info["kept_dense"] == ["c1", "logits"] and not info["fine_tuned"]


def test_fine_tuned_unstructured_with_tfmot(model):
    x, y = arrays(64)
    out, info = prune(model, check_spec(0.7), LayerPolicy(), (x, y), epochs=2, batch_size=16)
    assert info["fine_tuned"]
    assert not any("prune_low_magnitude" in layer.name for layer in out.layers)  # wrappers stripped
    for name in ("c2", "c3", "d1"):
        assert sparsity(kernel(out, name)) == pytest.approx(0.7, abs=0.01)


def test_fine_tuned_2_of_4_groups_run_along_input_channels(model):
    x, y = arrays(64)
    out, _ = prune(model, check_spec(None, "2:4"), LayerPolicy(), (x, y), epochs=1, batch_size=16)
    for name in ("c2", "c3", "d1"):
        oki = masks.to_oki(kernel(out, name))
        groups = (oki == 0).reshape(oki.shape[0], oki.shape[1], -1, 4).sum(axis=-1)
        assert (groups >= 2).all(), name


def test_fine_tuned_block_pruning_keeps_whole_blocks(model):
    x, y = arrays(64)
    out, info = prune(model, check_spec(0.5, "block", "2x4"), LayerPolicy(), (x, y), epochs=2, batch_size=16)
    assert info["block"] == "2x4"
    for name in ("c2", "c3"):
        oki = masks.to_oki(kernel(out, name))  # [8 out, 9 positions, 8 in]
        blocks = (oki == 0).reshape(4, 2, 9, 2, 4).transpose(0, 2, 3, 1, 4).reshape(4, 9, 2, 8)
        zero_blocks = blocks.all(axis=-1)
        assert zero_blocks.mean() == pytest.approx(0.5, abs=0.02), name
        # every zero weight lies in an all-zero block: fine-tuning revived nothing
        assert not (blocks.any(axis=-1) & ~zero_blocks).any(), name
