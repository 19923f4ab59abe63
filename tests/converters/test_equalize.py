"""Cross-layer equalization: which pairs it finds, exact in float, and the outlier case fixed end to end."""

from __future__ import annotations

import numpy as np

from edgelift._tf import keras
from edgelift.converters.equalize import equalize, find_pairs
from tests.converters.conftest import arrays, tiny


def _copy(model):
    clone = keras().models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def test_pairs_through_pooling_and_flatten_only():
    model = tiny()  # c1 -> c2 -> c3 -> flatten -> d1 -> logits
    pairs = [(p.first.name, p.second.name, p.flatten_channels) for p in find_pairs(model)]
    assert pairs == [("c1", "c2", None), ("c2", "c3", None), ("c3", "d1", 8), ("d1", "logits", None)]
    k = keras()
    L = k.layers
    inp = L.Input((6, 6, 2))
    a = L.Conv2D(4, 3, activation="relu6", name="a")(inp)  # relu6(x / s) * s != relu6(x)
    b = L.Conv2D(4, 1, activation="relu", name="b")(a)
    c = L.Conv2D(4, 1, name="c")(b)  # b feeds c and d: rescaling it would change d's input too
    d = L.Conv2D(4, 1, name="d")(b)
    assert find_pairs(k.Model(inp, L.Add()([c, d]))) == []


def test_exact_in_float_and_undoes_an_outlier_behind_flatten():
    model = tiny()
    x, _ = arrays(32)
    kernel, bias = model.get_layer("c3").get_weights()
    kernel[..., 3] *= 500.0
    bias[3] *= 500.0
    model.get_layer("c3").set_weights([kernel, bias])
    d1k, d1b = model.get_layer("d1").get_weights()
    d1k[3::8, :] /= 500.0  # Flatten of 4x4x8: rows 3, 11, 19, ... read channel 3
    model.get_layer("d1").set_weights([d1k, d1b])
    before = model.predict(x, verbose=0)
    eq = _copy(model)
    info = equalize(eq)
    after = eq.predict(x, verbose=0)
    assert np.max(np.abs(after - before)) <= 1e-5 * np.max(np.abs(before))  # float32 rounding only
    c3 = {p["layer"]: p for p in info["pairs"]}["c3"]
    assert c3["next"] == "d1" and c3["largest_scale"] > 50  # the outlier channel was scaled back down
    k3 = eq.get_layer("c3").get_weights()[0]
    ranges = np.abs(k3).reshape(-1, 8).max(axis=0)
    assert ranges.max() / np.median(ranges) < 10  # was ~500x


def test_convert_equalize_restores_the_outlier_model(outlier_files, tmp_path):
    from edgelift.converters.pipeline import convert

    common = dict(calibration=str(outlier_files["calibration"]), eval_data=str(outlier_files["test"]),
                  io="float32")
    plain = convert(str(outlier_files["keras"]), str(tmp_path / "plain.tflite"), **common).report["accuracy"]
    fixed = convert(str(outlier_files["keras"]), str(tmp_path / "eq.tflite"), equalize=True, **common)
    acc = fixed.report["accuracy"]
    assert plain["tflite"] < 0.5 and plain["float"] > 0.9  # measured: 98.4% float, 10.5% int8
    assert acc["tflite"] >= acc["float"] - 0.02  # measured: 98.4% both
    eq = fixed.report["steps"]["equalize"]
    assert eq["max_output_change"] < 1e-4 and {"conv3", "fc1"} <= {p["layer"] for p in eq["pairs"]} | {
        p["next"] for p in eq["pairs"]}
    assert "equalize: true" in (tmp_path / "eq.recipe.yaml").read_text()


def test_nothing_to_equalize_is_said(tmp_path):
    import warnings

    from edgelift.converters.pipeline import convert

    k = keras()
    L = k.layers
    inp = L.Input((8, 8, 4))
    x = L.Flatten()(L.Conv2D(4, 3, activation="relu6", name="a")(inp))  # relu6 is not scale-invariant
    model = k.Model(inp, L.Dense(3, name="out")(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = convert(model, str(tmp_path / "m.tflite"), calibration=arrays(32)[0], equalize=True)
    assert r.report["steps"]["equalize"]["pairs"] == []
    assert any("--equalize found no pair" in w for w in r.warnings)
