"""`convert --target rpi4|rpi5`: the value is checked before any work (flag, recipe, API), the block
`--prune-kind block` defaults to is the target's kernel block, and a .tflite input refuses the option."""

from __future__ import annotations

import pytest

import edgelift
from edgelift.cli import main
from edgelift.converters import target as targets
from edgelift.converters.warn import ConvertWarning
from edgelift.delegates.neon import sparse_rule
from edgelift.errors import InvalidArgumentError


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_targets_are_the_sparse_rules_boards():
    assert targets.TARGETS == ("rpi4", "rpi5") == tuple(sparse_rule.KERNELS)
    assert targets.check_target(None) is None and targets.check_target(" RPi5 ") == "rpi5"
    for board in targets.TARGETS:  # both kernels skip 16 outputs x 4 consecutive input values
        assert targets.default_block(board) == "16x4"
        assert targets.kernel_skips((16, 4), board) and targets.kernel_skips((32, 8), board)
        assert not targets.kernel_skips((1, 4), board) and not targets.kernel_skips((16, 2), board)
    with pytest.raises(InvalidArgumentError, match=r"--target 'pi9' is not one of rpi4, rpi5"):
        targets.check_target("pi9")


@pytest.mark.parametrize("how", ["flag", "recipe", "api"])
def test_unknown_target_is_refused_before_any_work(how, tmp_path, capsys, model_file):
    out = tmp_path / "out"
    out.mkdir()
    args = [str(model_file), "-o", str(out / "m.tflite"), "--prune", "0.75", "--prune-kind", "block"]
    if how == "api":
        with pytest.raises(InvalidArgumentError, match=r"--target 'pi9' is not one of rpi4, rpi5"):
            edgelift.convert(model_file, out / "m.tflite", prune=0.75, prune_kind="block", target="pi9")
    else:
        if how == "flag":
            args += ["--target", "pi9"]
        else:
            recipe = tmp_path / "r.yaml"
            recipe.write_text("target: pi9\n")
            args += ["--recipe", str(recipe)]
        rc = main(["convert", *args])
        lines = _error_lines(capsys.readouterr().err)
        assert rc == 2 and len(lines) == 1, lines
        assert "--target 'pi9' is not one of rpi4, rpi5" in lines[0] and "--target rpi4" in lines[0], lines
    assert list(out.iterdir()) == []


def test_a_target_that_is_not_a_string_is_named(tmp_path, model_file):
    with pytest.raises(InvalidArgumentError, match="target"):
        edgelift.convert(model_file, tmp_path / "m.tflite", prune=0.75, prune_kind="block", target=4)
    assert not (tmp_path / "m.tflite").exists()


def test_tflite_input_refuses_target(tmp_path, capsys):
    from tests.converters.tflite_inputs import FLOAT as src

    before = src.read_bytes()
    rc = main(["convert", str(src), "-o", str(tmp_path / "q.tflite"), "--target", "rpi4"])
    lines = _error_lines(capsys.readouterr().err)
    assert rc == 2 and len(lines) == 1 and "--target does not apply to a .tflite input" in lines[0], lines
    assert not (tmp_path / "q.tflite").exists() and src.read_bytes() == before


@pytest.mark.parametrize("board", targets.TARGETS)
def test_block_defaults_to_the_targets_kernel_block(board, tmp_path, model):
    with pytest.warns(ConvertWarning, match="in one shot without training data"):
        res = edgelift.convert(model, tmp_path / "m.tflite", prune=0.75, prune_kind="block", target=board,
                               quantize="none")
    assert res.report["steps"]["prune"]["block"] == targets.default_block(board)
    recipe = res.recipe_path.read_text()
    assert f"target: {board}\n" in recipe and f"block: {targets.default_block(board)}\n" in recipe, recipe
    assert res.report["sparse_prediction"]["boards"] == [board]
    (dense,) = [w for w in res.warnings if "will run dense" in w]  # float weights: the kernels are int8
    assert dense == (f"3 of 3 pruned layers will run dense on a {targets.BOARD_NAMES[board]}: 'c2', 'c3', 'd1' "
                     "(--quantize none: the sparse kernels run int8 layers (--quantize int8))"), dense


def test_the_default_block_follows_the_targets_kernel(tmp_path, model, monkeypatch):
    """Both kernels read 16x4; a board whose kernel read 1x8 would get 1x8 blocks, while no target keeps 1x4."""
    monkeypatch.setitem(targets.KERNEL_BLOCK, "rpi5", (1, 8))
    with pytest.warns(ConvertWarning):
        on5 = edgelift.convert(model, tmp_path / "a.tflite", prune=0.5, prune_kind="block", target="rpi5",
                               quantize="none")
        plain = edgelift.convert(model, tmp_path / "b.tflite", prune=0.5, prune_kind="block", quantize="none")
    assert on5.report["steps"]["prune"]["block"] == "1x8" and plain.report["steps"]["prune"]["block"] == "1x4"
