"""compare / compare_exact on hand-made arrays: every figure checked against a value worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift.device.checking.compare import compare, compare_exact


def test_float_figures_by_hand():
    ref = np.array([[3.0, 4.0]])
    out = np.array([[3.0, 5.0]])
    m = compare(out, ref)
    assert m["max_abs_error"] == 1.0 and m["mean_abs_error"] == 0.5
    assert m["snr_db"] == pytest.approx(10 * np.log10(25.0 / 1.0))  # signal 9+16, noise 1
    assert m["cosine"] == pytest.approx((9 + 20) / (5.0 * np.sqrt(34.0)))
    assert m["top1_agreement"] == 1.0  # both pick index 1


def test_identical_outputs_and_silent_ones():
    x = np.array([[0.5, -1.0, 2.0]])
    same = compare(x, x)
    assert same["snr_db"] == float("inf") and same["cosine"] == pytest.approx(1.0) and same["max_abs_error"] == 0.0
    zeros = np.zeros((1, 3))
    assert compare(x, zeros)["snr_db"] == float("-inf") and compare(x, zeros)["cosine"] == 0.0
    assert compare(zeros, zeros)["cosine"] == 1.0


def test_top1_and_accuracy_against_labels():
    ref = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])  # picks 0, 1, 0, 1
    out = np.array([[0.8, 0.2], [0.7, 0.3], [0.6, 0.4], [0.1, 0.9]])  # picks 0, 0, 0, 1
    m = compare(out, ref, labels=np.array([0, 1, 1, 1]))
    assert m["top1_agreement"] == 0.75
    assert (m["accuracy"], m["reference_accuracy"]) == (0.5, 0.75)
    assert m["accuracy_drop"] == pytest.approx(0.25)
    assert compare(out[:, :1], ref[:, :1])["top1_agreement"] is None  # one value per sample: no top-1


def test_exact_integers_count_lsb():
    ref = np.array([-128, 0, 5, 127], np.int8)
    out = np.array([-128, 1, 3, 127], np.int8)
    e = compare_exact(out, ref)
    assert e == {"identical_share": 0.5, "elements": 4, "differing_elements": 2, "max_lsb_difference": 2,
                 "lsb_histogram": {0: 2, 1: 1, 2: 1}}


def test_exact_floats_count_ulps_across_zero():
    ref = np.array([1.0, 0.0], np.float32)
    out = np.array([np.nextafter(np.float32(1.0), np.float32(2.0)), -np.float32(0.0)], np.float32)
    e = compare_exact(out, ref)
    assert e["max_lsb_difference"] == 1 and e["differing_elements"] == 1  # +0 and -0 are the same place
    tiny = np.array([np.float32(1e-45)], np.float32)  # the smallest subnormal, one ULP from either zero
    assert compare_exact(-tiny, tiny)["max_lsb_difference"] == 2
