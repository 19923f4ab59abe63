"""Recipes: YAML and TOML, flags override the recipe, and the recipe used is written next to the output."""

from __future__ import annotations

import pytest
import yaml

from edgelift.cli import main
from edgelift.converters.recipe import load_recipe, merge
from edgelift.errors import InvalidArgumentError
from edgelift.tflite_model import load


def test_yaml_and_toml_read_alike(tmp_path):
    (tmp_path / "r.yaml").write_text("prune: 0.5\nprune-kind: block\nblock: 1x4\ncalibration: data/c.npz\n")
    (tmp_path / "r.toml").write_text('prune = 0.5\nprune_kind = "block"\nblock = "1x4"\ncalibration = "data/c.npz"\n')
    a, b = load_recipe(tmp_path / "r.yaml"), load_recipe(tmp_path / "r.toml")
    assert a == b
    assert a["calibration"] == str(tmp_path / "data" / "c.npz")  # relative to the recipe
    assert merge(a, {"prune": 0.75, "block": None})["prune"] == 0.75
    assert merge(a, {"prune": 0.75, "block": None})["block"] == "1x4"


def test_unknown_key_suggests(tmp_path):
    (tmp_path / "r.yaml").write_text("prun: 0.5\n")
    with pytest.raises(InvalidArgumentError, match="recipe key 'prun' is not a convert setting.*did you mean 'prune'"):
        load_recipe(tmp_path / "r.yaml")


def test_cli_flags_override_recipe_and_recipe_is_written(capsys, tmp_path, model_file, data_dir):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"model: {model_file}\nprune: 0.5\nquantize: int8\ncalibration: {data_dir / 'calib.npy'}\n"
                      "keep_dense: none\n")
    out = tmp_path / "m.tflite"
    rc = main(["convert", "--recipe", str(recipe), "-o", str(out), "--prune", "0.75", "--io", "float32"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "warning: pruned to 75% (unstructured) in one shot" in captured.err
    used = yaml.safe_load((tmp_path / "m.recipe.yaml").read_text())
    assert used["prune"] == 0.75 and used["io"] == "float32" and used["model"] == str(model_file)
    m = load(out)
    assert m.input_tensors[0].type_name == "FLOAT32"
    # rerunning the written recipe reproduces the file bit for bit (one-shot pruning is deterministic)
    out2 = tmp_path / "again.tflite"
    assert main(["convert", "--recipe", str(tmp_path / "m.recipe.yaml"), "-o", str(out2)]) == 0
    assert out2.read_bytes() == out.read_bytes()


def test_recipe_alone_drives_2_of_4(tmp_path, model_file, data_dir):
    import edgelift
    from edgelift.inspection import inspect

    recipe = tmp_path / "r.toml"
    recipe.write_text(f'model = "{model_file}"\nprune_kind = "2:4"\nquantize = "none"\n')
    res = edgelift.convert(recipe=recipe, output=tmp_path / "m.tflite")
    structures = {w["tensor"].split("/")[1]: w["structure"] for w in inspect(res.output)["weights"]}
    assert structures["c2"] == structures["c3"] == structures["d1"] == "2:4"
    assert structures["c1"] is None


@pytest.mark.parametrize("name, text, named", [
    ("r.toml", 'per_channel = "false"\n', "per_channel must be true or false (unquoted), got the string 'false'"),
    ("r.toml", 'qat = "no"\n', "qat must be true or false (unquoted), got the string 'no'"),
    ("r.yaml", "epochs: '2'\n", "epochs must be a whole number, got the string '2'"),
    ("r.yaml", "cluster: 16.5\n", "cluster must be a whole number, got 16.5 (float)"),
    ("r.yaml", "calibration_samples: true\n", "calibration_samples must be a whole number, got True (bool)"),
    ("r.yaml", "output: [a, b]\n", "output must be a path (string)"),
    ("r.yaml", "keep_dense: {a: 1}\n", "keep_dense must be a layer name or a list of names"),
])
def test_a_value_of_the_wrong_type_is_named(tmp_path, capsys, model_file, name, text, named):
    recipe = tmp_path / name
    recipe.write_text(f'model = "{model_file}"\n' + text if name.endswith(".toml") else f"model: {model_file}\n" + text)
    with pytest.raises(InvalidArgumentError) as exc:
        load_recipe(recipe)
    assert named in exc.value.message
    rc = main(["convert", "--recipe", str(recipe), "-o", str(tmp_path / "m.tflite")])
    err = capsys.readouterr().err
    assert rc == 2 and named in err and "internal error" not in err, err
    assert not (tmp_path / "m.tflite").exists()


def test_the_api_checks_the_same_types_and_a_folder_is_not_a_recipe(tmp_path, model_file):
    import edgelift

    with pytest.raises(InvalidArgumentError, match="convert: per_channel must be true or false"):
        edgelift.convert(model_file, tmp_path / "m.tflite", per_channel="false")
    with pytest.raises(InvalidArgumentError, match="is a folder, not a file"):
        load_recipe(tmp_path)
