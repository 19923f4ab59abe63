"""benchmarks/sparse_bench.py refuses bad flags in one line before any training (its full runs are the README's
block-sparse figures)."""

from __future__ import annotations

import pytest

from benchmarks.sparse_bench import main


@pytest.mark.parametrize("argv, named", [
    (["--epochs", "0"], "--epochs 0: give at least 1 epoch"),
    (["--float-epochs", "-3"], "--float-epochs -3: give at least 1 epoch"),
    (["--sparsities", "0.75,1.5"], "--sparsities '1.5': give fractions of pruned 16x4 blocks in (0, 1)"),
    (["--sparsities", "half"], "--sparsities 'half'"),
    (["--models", "digits,resnet"], "--models 'resnet': allowed digits, mobilenet_v2"),
    (["--boards", "rpi4,x86"], "--boards 'x86': allowed rpi4, rpi5 (x86 with --calibrate"),
    (["--calibrate", "--boards", "pi3"], "--boards 'pi3': allowed rpi4, rpi5, x86"),
    (["--models", "digits", "--prune-layers", "conv2,fc9"], "--prune-layers 'fc9': the digits CNN's layers are "
                                                             "conv1, conv2, conv3, fc1, logits"),
])
def test_bad_flags_are_refused_before_training(argv, named):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert named in str(exc.value.code)
