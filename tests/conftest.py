"""Shared pytest set-up: repository root on sys.path (for `examples` and `tests.modelkit`), session fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def digits_cnn(tmp_path_factory):
    """The digits CNN, trained once per test session; returns (tf_keras model, (xtr, ytr, xte, yte))."""
    from tests import modelkit

    return modelkit.trained_digits_cnn()
