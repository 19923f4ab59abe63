"""Magnitude masks in numpy, checked in TFLite's weight layout (output channels first, input channels last)."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift.converters import masks
from edgelift.errors import UnsupportedModelError


def _conv_kernel(kh=3, kw=3, cin=8, cout=6, seed=0):
    return np.random.default_rng(seed).normal(size=(kh, kw, cin, cout)).astype(np.float32)


def test_layout_round_trip():
    k = _conv_kernel()
    oki = masks.to_oki(k)
    assert oki.shape == (6, 9, 8)
    # element [o, (h, w), i] is kernel[h, w, i, o]
    assert oki[5, 1 * 3 + 2, 7] == k[1, 2, 7, 5]
    np.testing.assert_array_equal(masks.from_oki(oki, k.shape), k)
    d = np.arange(12, dtype=np.float32).reshape(3, 4)  # Dense [I, O]
    np.testing.assert_array_equal(masks.from_oki(masks.to_oki(d), d.shape), d)
    assert masks.to_oki(d)[2, 0, 1] == d[1, 2]


def test_unstructured_zeroes_the_smallest():
    k = _conv_kernel()
    m = masks.unstructured(k, 0.75)
    assert int((m == 0).sum()) == round(0.75 * k.size)
    assert np.abs(k[m == 0]).max() <= np.abs(k[m == 1]).min()


def test_2_of_4_along_input_channels():
    k = _conv_kernel(cin=8)
    m = masks.m_by_n(k, 2, 4)
    groups = masks.to_oki(m).reshape(6, 9, 2, 4)
    assert (groups.sum(axis=-1) == 2).all()  # exactly 2 kept of every 4 consecutive input channels
    kept = np.abs(masks.to_oki(k).reshape(6, 9, 2, 4))
    # the kept two are the largest two of the group
    assert (np.sort(kept * groups, axis=-1)[..., 2:] == np.sort(kept, axis=-1)[..., 2:]).all()


def test_2_of_4_needs_multiple_of_four_channels():
    with pytest.raises(UnsupportedModelError, match=r"layer 'c9' has 6 input channels.*multiple of 4"):
        masks.m_by_n(_conv_kernel(cin=6), 2, 4, layer="c9")


@pytest.mark.parametrize("rows,cols", [(1, 4), (2, 4), (3, 2)])
def test_block_zeroes_whole_blocks(rows, cols):
    k = _conv_kernel(cin=8, cout=6)
    m = masks.block(k, 0.5, rows, cols)
    blocks = masks.to_oki(m).reshape(6 // rows, rows, 9, 8 // cols, cols).transpose(0, 2, 3, 1, 4)
    blocks = blocks.reshape(6 // rows, 9, 8 // cols, -1)
    per_block = blocks.sum(axis=-1)
    assert set(np.unique(per_block)) <= {0, rows * cols}  # every block all-zero or all-kept
    assert (per_block == 0).sum() == round(0.5 * per_block.size)


def test_block_keeps_the_strongest_blocks():
    k = np.full((1, 1, 8, 1), 0.1, np.float32)
    k[0, 0, 4:8, 0] = [1, -2, 3, 0.5]  # the second 1x4 block has the larger norm
    m = masks.block(k, 0.5, 1, 4)
    np.testing.assert_array_equal(m[0, 0, :, 0], [0, 0, 0, 0, 1, 1, 1, 1])


def test_block_shape_must_divide_input_channels():
    with pytest.raises(UnsupportedModelError, match=r"layer 'fc' has 6 output x 6 input channels; 4x4 blocks need a "
                                                    r"multiple of 4 input channels"):
        masks.block(np.ones((6, 6), np.float32), 0.5, 4, 4, layer="fc")


def test_block_output_side_may_end_in_a_partial_block():
    """24 output channels in 16x4 blocks: the last block holds 8 channels and is ranked by RMS like the others."""
    k = np.ones((8, 24), np.float32)  # Dense [in, out]
    k[:, 16:] = 1.2  # the short blocks are the strongest per weight; by L2 sum (6.8 vs 8) they would go first
    m = masks.block(k, 0.5, 16, 4)
    oki = masks.to_oki(m)[:, 0, :]  # [24 out, 8 in]
    assert (oki[16:] == 1).all() and (oki[:16] == 0).all()  # the 2 short blocks kept, the 2 full ones pruned
    for o0, o1 in ((0, 16), (16, 24)):
        for i0 in (0, 4):
            assert len(np.unique(oki[o0:o1, i0:i0 + 4])) == 1  # every block all-zero or all-kept
