"""Per-layer sparsity (`--prune-layers conv2=0.45,conv3`): parsing, refusals, and real pruning of the tiny net
(one shot, TFMOT fine-tuning and block fine-tuning), each layer reaching its own target."""

from __future__ import annotations

import numpy as np
import pytest

import edgelift
from edgelift.converters.convert_options import ConvertOptions
from edgelift.converters.layer_sparsity import as_setting, parse
from edgelift.converters.policy import LayerPolicy
from edgelift.converters.prune import check_spec, prune
from edgelift.errors import InvalidArgumentError
from tests.converters.conftest import arrays


@pytest.mark.parametrize("value, names, own", [
    ("c2=0.45, c3", ["c2", "c3"], {"c2": 0.45}),
    (["c2 = 0.3", "Dense=0"], ["c2", "Dense"], {"c2": 0.3, "Dense": 0.0}),
    ({"c2": 0.45, "c3": None}, ["c2", "c3"], {"c2": 0.45}),
    ("c2,c3", ["c2", "c3"], {}),
    ("none", [], {}),
    (None, None, {}),
])
def test_parse(value, names, own):
    assert parse(value) == (names, own)


@pytest.mark.parametrize("value", ["c2=1", "c2=1.5", "c2=-0.1", "c2=nan", "c2=half", {"c2": True}, {"c2": "x"}])
def test_a_layer_sparsity_outside_0_1_is_refused(value):
    with pytest.raises(InvalidArgumentError, match=r"--prune-layers c2=.*must be a number in \[0, 1\)"):
        parse(value)


def test_as_setting_keeps_the_plain_list_without_overrides():
    assert as_setting(["c2", "c3"], {}) == ["c2", "c3"]
    assert as_setting(["c2", "c3"], {"c2": 0.45}) == {"c2": 0.45, "c3": None}
    assert as_setting(None, {}) is None


def test_options_refuse_overrides_without_prune_and_odd_2_4(model_file, tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"--prune-layers c2=0.5 sets one layer's sparsity, and no "
                                                   r"--prune was given"):
        ConvertOptions.build(model_file, tmp_path / "m.tflite", prune_layers="c2=0.5,c3", quantize="none")
    with pytest.raises(InvalidArgumentError, match=r"c2=0.3 with --prune-kind 2:4: a 2:4 layer is 0.5 sparse or "
                                                   r"dense"):
        ConvertOptions.build(model_file, tmp_path / "m.tflite", prune_kind="2:4", prune_layers="c2=0.3,c3",
                             quantize="none")
    opts = ConvertOptions.build(model_file, tmp_path / "m.tflite", prune=0.5, prune_layers="c2=0.25,c3",
                                quantize="none")
    assert opts.spec.per_layer == {"c2": 0.25} and opts.prune_layers == ["c2", "c3"]
    assert opts.settings()["prune_layers"] == {"c2": 0.25, "c3": None}
    assert not list(tmp_path.iterdir())


def _sparsity(model, name):
    return float(np.mean(model.get_layer(name).kernel.numpy() == 0))


def test_one_shot_prunes_each_layer_to_its_own_target(model):
    before = model.get_layer("d1").kernel.numpy().copy()
    with pytest.warns(Warning, match="one shot"):
        out, info = prune(model, check_spec(0.6, per_layer={"c2": 0.3, "d1": 0.0}), LayerPolicy(only=["c2", "c3",
                                                                                                   "d1"]))
    assert _sparsity(out, "c2") == pytest.approx(0.3, abs=0.01)
    assert _sparsity(out, "c3") == pytest.approx(0.6, abs=0.01)
    np.testing.assert_array_equal(out.get_layer("d1").kernel.numpy(), before)  # sparsity 0: left dense
    assert [(e["layer"], e["target"]) for e in info["layers"]] == [("c2", 0.3), ("c3", 0.6)]
    assert "d1" in info["kept_dense"]


def test_a_name_beats_a_type(model):
    with pytest.warns(Warning, match="one shot"):
        out, _ = prune(model, check_spec(0.5, per_layer={"Conv2D": 0.25, "c3": 0.75}), LayerPolicy(only=["Conv2D"]))
    assert _sparsity(out, "c2") == pytest.approx(0.25, abs=0.02)  # (c1, the first conv, is kept dense)
    assert _sparsity(out, "c3") == pytest.approx(0.75, abs=0.01)


@pytest.mark.parametrize("kind, block", [("unstructured", (1, 4)), ("block", (1, 4))])
def test_fine_tuning_reaches_each_layers_target(model, kind, block):
    x, y = arrays(64)
    out, info = prune(model, check_spec(0.75, kind, block, per_layer={"c3": 0.5}), LayerPolicy(), (x, y),
                      epochs=2, batch_size=16)
    assert info["fine_tuned"]
    assert _sparsity(out, "c2") == pytest.approx(0.75, abs=0.01)
    assert _sparsity(out, "c3") == pytest.approx(0.5, abs=0.01)


def test_convert_records_per_layer_sparsity_in_the_recipe_and_replays_it(model_file, tmp_path):
    import yaml

    with pytest.warns(Warning, match="one shot"):
        res = edgelift.convert(model_file, tmp_path / "m.tflite", prune=0.5, prune_layers="c2=0.25,c3",
                               quantize="none")
    recipe = yaml.safe_load(res.recipe_path.read_text())
    assert recipe["prune_layers"] == {"c2": 0.25, "c3": None}
    got = {e["layer"]: round(e["emitted_sparsity"], 2) for e in res.report["steps"]["prune"]["layers"]}
    assert got == {"c2": 0.25, "c3": 0.5}
    with pytest.warns(Warning, match="one shot"):
        again = edgelift.convert(recipe=res.recipe_path, output=tmp_path / "again.tflite")
    assert again.output.read_bytes() == res.output.read_bytes()  # one shot: deterministic
