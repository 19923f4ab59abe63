"""Which layers are pruned: defaults, overrides by name or type, and errors that name the layer."""

from __future__ import annotations

import pytest

from edgelift.converters.policy import LayerPolicy
from edgelift.errors import InvalidArgumentError, UnsupportedModelError


def names(layers):
    return [layer.name for layer in layers]


def test_defaults_keep_first_conv_and_classifier(model):
    p = LayerPolicy()
    assert names(p.select(model)) == ["c2", "c3", "d1"]
    assert p.reasons["c1"] == p.reasons["logits"] == "kept dense"


def test_keep_dense_overrides_defaults(model):
    assert names(LayerPolicy(keep_dense=[]).select(model)) == ["c1", "c2", "c3", "d1", "logits"]
    assert names(LayerPolicy(keep_dense=["Dense"]).select(model)) == ["c1", "c2", "c3"]


def test_only_by_type_still_keeps_defaults_but_by_name_wins(model):
    assert names(LayerPolicy(only=["Conv2D"]).select(model)) == ["c2", "c3"]
    assert names(LayerPolicy(only=["c1", "d1"]).select(model)) == ["c1", "d1"]


def test_unknown_layer_name_suggests(model):
    with pytest.raises(InvalidArgumentError, match=r"--prune-layers 'd2' matches no layer.*did you mean 'd1'"):
        LayerPolicy(only=["d2"]).select(model)


def test_layer_that_cannot_be_pruned_is_named(model):
    with pytest.raises(UnsupportedModelError, match=r"layer 'flat' \(Flatten\) cannot take unstructured pruning"):
        LayerPolicy(only=["flat"]).select(model)


def test_nothing_left_to_prune(model):
    with pytest.raises(UnsupportedModelError, match="no layer of the model can take pruning"):
        LayerPolicy(keep_dense=["Conv2D", "Dense"]).select(model)
