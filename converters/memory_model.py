"""An in-memory Keras model converted in the TensorFlow child: handed over as a private .keras file.

The child (`converters.isolated`) takes TensorFlow's crashes, but it cannot see the caller's objects. The model is
saved to a 0700 temporary folder, the child loads it and checks that it computes what the caller's model computed
on one probe input, and the folder is removed however the conversion ends (answer, error, crash, Ctrl-C). The
report and recipe name the caller's model, never the temporary file. A model that cannot make that trip (custom
classes the child cannot import, Lambda closures, subclassed models without a config) is converted in the
caller's process, with a warning saying why.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgelift.errors import EdgeliftError

# float32 kernels re-run on the same machine; anything beyond rounding noise is a different model
_PROBE_RTOL = 1e-5


class NotReloadable(EdgeliftError):
    """Raised in the child when the saved copy of an in-memory model does not load or computes differently."""


@dataclass
class Handover:
    path: str  # the .keras the child loads
    source: str  # how the report names the model, as an in-process load would
    keras3: bool
    probe: list[np.ndarray] | None  # inputs, and the caller's model's outputs on them
    expected: list[np.ndarray] | None


def source_name(model) -> str:
    """The report's name for an in-memory model (what `load.load_model` gives it in this process)."""
    from .load import _is_keras3_object

    if _is_keras3_object(model):
        return f"<in-memory Keras 3 model {getattr(model, 'name', '?')!r}>"
    return f"<in-memory {type(model).__name__} {model.name!r}>"


def _as_list(out) -> list[np.ndarray]:
    if isinstance(out, dict):
        out = [out[k] for k in sorted(out)]
    return [np.asarray(t) for t in (out if isinstance(out, (list, tuple)) else [out])]


def _probe(model) -> tuple[list[np.ndarray] | None, list[np.ndarray] | None]:
    """One seeded input per model input (unknown dimensions 1) and the model's outputs on it; None if it won't run."""
    try:
        rng = np.random.default_rng(0)
        xs = [rng.uniform(0, 1, [d or 1 for d in t.shape]).astype(np.dtype(getattr(t.dtype, "name", t.dtype)))
              for t in model.inputs]
        return xs, _as_list(model(xs if len(xs) > 1 else xs[0], training=False))
    except Exception:  # a model without symbolic inputs (subclassed): the child's load is the only check
        return None, None


@contextlib.contextmanager
def handed_over(model) -> Iterator[Handover | str]:
    """The model saved for the child (a Handover), or why it cannot be (a str); the folder goes on exit."""
    from .load import _first_line, _is_keras3_object

    folder = Path(tempfile.mkdtemp(prefix="edgelift-memory-"))  # mkdtemp: mode 0700
    try:
        path = folder / "model.keras"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # saving notes (untraced functions, optimizer) are not the user's
                model.save(str(path))
        except Exception as exc:
            yield f"it cannot be saved as .keras ({_first_line(exc)})"
            return
        probe, expected = _probe(model)
        yield Handover(str(path), source_name(model), _is_keras3_object(model), probe, expected)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def reload(handover: Handover):
    """In the child: load the saved copy as the caller's model (its name, kind, no file size), or NotReloadable."""
    from .load import _first_line, load_model

    try:
        loaded = load_model(handover.path)
    except Exception as exc:
        why = getattr(exc, "message", None) or _first_line(exc)
        why = why.split(f"{handover.path!r}: ", 1)[-1]  # the temporary path means nothing to the caller
        raise NotReloadable(f"its saved copy does not load ({why[:200]})") from None
    loaded.source, loaded.kind, loaded.file_bytes = handover.source, "memory", None
    km = loaded.keras_model
    if handover.probe is not None and km is not None:
        try:
            got = _as_list(km(handover.probe if len(handover.probe) > 1 else handover.probe[0], training=False))
        except Exception as exc:
            loaded.close()
            raise NotReloadable(f"its saved copy does not run ({_first_line(exc)})") from None
        for want, have in zip(handover.expected, got, strict=False):
            if want.shape != have.shape or not np.allclose(have, want, rtol=_PROBE_RTOL,
                                                           atol=_PROBE_RTOL * max(1.0, float(np.max(np.abs(want))))):
                loaded.close()
                raise NotReloadable("its saved copy computes differently (a layer's get_config does not round-trip)")
        if len(got) != len(handover.expected):
            loaded.close()
            raise NotReloadable(f"its saved copy has {len(got)} outputs, the model {len(handover.expected)}")
    return loaded


def in_process_note(source: str, reason: str) -> str:
    return (f"{source} is converted in this process, not in the crash-isolated child: {reason}; a TensorFlow crash "
            "would end this process — save the model to a file (with its custom objects importable) to convert it "
            "isolated")
