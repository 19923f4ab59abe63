"""Load the user's model: .keras, .h5, a SavedModel directory, or an in-memory tf_keras / Keras 3 model.

TFMOT (pruning, clustering, QAT) understands tf_keras only. A Keras 3 model made of standard layers is
rebuilt faithfully in tf_keras (same layer configs, same weights, outputs checked equal); when a layer
blocks the rebuild, the model can still be quantized (through a SavedModel export), and any TFMOT step
fails with an error naming that layer.
"""

from __future__ import annotations

import inspect as _inspect
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgelift._tf import keras, tensorflow
from edgelift.errors import InvalidArgumentError, InvalidModelError, ModelNotFoundError, UnsupportedModelError

ALLOWED = ".keras, .h5, a SavedModel directory, a float .tflite, or an in-memory Keras model"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

# Keras 3 layer classes rebuilt in tf_keras from their config (same class name in both).
REBUILDABLE = frozenset({
    "InputLayer", "Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Dense",
    "BatchNormalization", "LayerNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax",
    "Dropout", "SpatialDropout2D", "Flatten", "Reshape", "Permute", "MaxPooling2D", "AveragePooling2D",
    "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Add", "Subtract", "Multiply", "Average", "Maximum",
    "Minimum", "Concatenate", "ZeroPadding2D", "Cropping2D", "UpSampling2D", "Rescaling",
})


@dataclass
class LoadedModel:
    keras_model: Any  # tf_keras model, or None when only a SavedModel is available
    source: str  # path or "<in-memory ...>"
    kind: str  # "keras", "h5", "savedmodel", "memory"
    keras3: bool = False  # the original was a Keras 3 model
    blocker: str | None = None  # why there is no tf_keras model (named layer), when keras_model is None
    saved_model_dir: str | None = None
    _tmp: Any = None  # TemporaryDirectory kept alive for saved_model_dir
    file_bytes: int | None = None

    def require_keras(self, what: str):
        if self.keras_model is None:
            raise UnsupportedModelError(
                f"{what} needs a tf_keras model, and {self.source!r} cannot be rebuilt as one: {self.blocker}",
                hint="quantization alone works (drop pruning/clustering/QAT flags); for those, pass a tf_keras "
                     "model or one built from standard Keras layers",
            )
        return self.keras_model

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _is_keras3_object(model) -> bool:
    return type(model).__module__.startswith("keras.") and not type(model).__module__.startswith("keras.src.legacy")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def load_model(model) -> LoadedModel:
    """Accept a path (.keras, .h5, SavedModel dir) or an in-memory model."""
    if not isinstance(model, (str, os.PathLike)):
        k = keras()
        if isinstance(model, k.Model):
            return LoadedModel(model, f"<in-memory {type(model).__name__} {model.name!r}>", "memory")
        if _is_keras3_object(model) and hasattr(model, "layers"):
            return _from_keras3(model, f"<in-memory Keras 3 model {getattr(model, 'name', '?')!r}>", "memory")
        raise InvalidArgumentError(
            f"model of type {type(model).__module__}.{type(model).__name__} is not a Keras model or a path",
            hint=f"pass {ALLOWED}",
        )
    p = Path(model)
    if not p.exists():
        raise ModelNotFoundError(f"model path {str(p)!r} does not exist", hint=f"check the path; allowed: {ALLOWED}")
    if p.is_dir():
        if not (p / "saved_model.pb").exists() and not (p / "saved_model.pbtxt").exists():
            raise InvalidModelError(f"directory {str(p)!r} is not a SavedModel (no saved_model.pb inside)",
                                    hint=f"pass {ALLOWED}")
        return _load_savedmodel(p)
    suffix = p.suffix.lower()
    size = p.stat().st_size
    if suffix == ".tflite":  # convert sends .tflite files to tflite_convert; loading one as Keras is a mistake
        raise InvalidModelError(f"{str(p)!r} is a .tflite, not a Keras model",
                                hint="quantize it with edgelift.convert / `edgelift convert MODEL.tflite`")
    if suffix == ".keras":
        if not zipfile.is_zipfile(p):
            raise InvalidModelError(f"{str(p)!r} is not a Keras model: a .keras file is a zip archive and this "
                                    f"one is not ({size} bytes)", hint="re-save it with model.save('model.keras')")
        loaded = _load_keras_file(p, "keras", _keras_file_version(p))
    elif suffix in (".h5", ".hdf5"):
        with open(p, "rb") as f:
            magic = f.read(8)
        if magic != _HDF5_MAGIC:
            raise InvalidModelError(f"{str(p)!r} is not a Keras model: not an HDF5 file (starts with {magic!r})",
                                    hint="re-save it with model.save('model.h5')")
        loaded = _load_keras_file(p, "h5", _h5_version(p))
    else:
        raise InvalidModelError(f"{str(p)!r} has suffix {suffix or '(none)'!r}, which is not a model format edgelift "
                                f"reads", hint=f"pass {ALLOWED}")
    loaded.file_bytes = size
    return loaded


def _keras_file_version(p: Path) -> str:
    try:
        with zipfile.ZipFile(p) as z:
            if "metadata.json" in z.namelist():
                return str(json.loads(z.read("metadata.json")).get("keras_version", ""))
            if "config.json" not in z.namelist():
                raise InvalidModelError(f"{str(p)!r} is a zip archive but not a Keras model (no config.json)",
                                        hint="re-save it with model.save('model.keras')")
    except (zipfile.BadZipFile, json.JSONDecodeError, OSError) as exc:
        raise InvalidModelError(f"{str(p)!r} is a damaged .keras archive: {_first_line(exc)}",
                                hint="re-save the model") from None
    return ""


def _h5_version(p: Path) -> str:
    import h5py

    try:
        with h5py.File(p, "r") as f:
            v = f.attrs.get("keras_version", "")
            if "model_config" not in f.attrs:
                raise InvalidModelError(f"{str(p)!r} is an HDF5 file without a model (weights only?)",
                                        hint="save the whole model with model.save('model.h5')")
    except OSError as exc:
        raise InvalidModelError(f"{str(p)!r} is a damaged HDF5 file: {_first_line(exc)}",
                                hint="re-save the model") from None
    return v.decode() if isinstance(v, bytes) else str(v)


def _load_keras_file(p: Path, fmt: str, version: str) -> LoadedModel:
    """A .keras/.h5 file: with Keras 3 when it wrote the file (then rebuilt in tf_keras), else with tf_keras."""
    if not version.startswith("3"):
        return LoadedModel(_tf_keras_load(p), str(p), fmt)
    import keras as keras3

    try:
        m3 = keras3.saving.load_model(str(p), compile=False)
    except Exception as exc:
        raise UnsupportedModelError(f"Keras 3 cannot load {str(p)!r}: {_first_line(exc)}",
                                    hint="load it yourself and pass the model object") from None
    return _from_keras3(m3, str(p), fmt)


def _tf_keras_load(p: Path):
    try:
        return keras().models.load_model(str(p), compile=False)
    except Exception as exc:
        raise UnsupportedModelError(f"tf_keras cannot load {str(p)!r}: {_first_line(exc)}",
                                    hint="custom layers must be importable; or pass the in-memory model") from None


def _load_savedmodel(p: Path) -> LoadedModel:
    try:
        m = keras().models.load_model(str(p), compile=False)
        if isinstance(m, keras().Model):
            return LoadedModel(m, str(p), "savedmodel")
        reason = "the SavedModel carries no Keras model"
    except Exception as exc:
        reason = f"it has no tf_keras metadata ({_first_line(exc)[:120]})"
    return LoadedModel(None, str(p), "savedmodel", blocker=reason, saved_model_dir=str(p))


# -- Keras 3 -> tf_keras ---------------------------------------------------------------------------------------
def _plain(value):
    """Keras 3 serialized sub-objects -> what tf_keras' from_config accepts."""
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy" or value.get("class_name") == "FloatDTypePolicy":
            return value.get("config", {}).get("name", "float32")
        if "class_name" in value and "config" in value:
            return {"class_name": value["class_name"], "config": _plain(value["config"])}
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _tf_keras_layer(layer3):
    k = keras()
    name = type(layer3).__name__
    if name not in REBUILDABLE or not hasattr(k.layers, name):
        raise UnsupportedModelError(
            f"layer {layer3.name!r} ({name}) has no faithful tf_keras equivalent edgelift can rebuild",
            hint="pruning, clustering and QAT need tf_keras (TFMOT); replace it with standard layers, or "
                 "quantize only",
        )
    cls = getattr(k.layers, name)
    cfg = _plain(layer3.get_config())
    params = set(_inspect.signature(cls.__init__).parameters) | {"name", "trainable", "dtype"}
    # initializers are irrelevant (the weights are copied) and Keras 3 adds arguments tf_keras lacks
    cfg = {key: v for key, v in cfg.items() if key in params and not key.endswith("initializer")}
    try:
        return cls.from_config(cfg)
    except Exception as exc:
        raise UnsupportedModelError(f"layer {layer3.name!r} ({name}) cannot be rebuilt in tf_keras: "
                                    f"{_first_line(exc)}", hint="quantize only, or use standard layers") from None


def _resolve(arg, produced):
    if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
        layer, node, index = arg["config"]["keras_history"]
        return produced[(layer, node)][index]
    if isinstance(arg, list):
        return [_resolve(a, produced) for a in arg]
    if isinstance(arg, tuple):
        return tuple(_resolve(a, produced) for a in arg)
    if isinstance(arg, dict):
        return {k: _resolve(v, produced) for k, v in arg.items()}
    return arg


def rebuild_keras3(m3):
    """A tf_keras model with the same layers, configs and weights as Keras 3 model `m3`."""
    k = keras()
    for layer in m3.layers:
        if type(layer).__name__ not in REBUILDABLE:
            _tf_keras_layer(layer)  # raises, naming the layer
    cfg = m3.get_config()
    if type(m3).__name__ == "Sequential":
        shape = tuple(m3.inputs[0].shape)
        x = inp = k.Input(batch_shape=shape, name=m3.inputs[0].name.split(":")[0] or None)
        for layer in m3.layers:
            x = _tf_keras_layer(layer)(x)
        model = k.Model(inp, x, name=m3.name)
    else:
        if "layers" not in cfg or "input_layers" not in cfg:
            raise UnsupportedModelError(f"Keras 3 model {m3.name!r} of type {type(m3).__name__} is not a "
                                        "Sequential or functional model", hint="quantize only")
        produced: dict[tuple[str, int], list] = {}
        by_name = {layer.name: layer for layer in m3.layers}
        for lc in cfg["layers"]:
            name = lc["config"].get("name", lc.get("name"))
            layer3 = by_name[name]
            if lc["class_name"] == "InputLayer":
                c = lc["config"]
                shape = c.get("batch_shape") or c.get("batch_input_shape")
                produced[(name, 0)] = [k.Input(batch_shape=tuple(shape), name=name, dtype=_plain(c.get("dtype")))]
                continue
            layer2 = _tf_keras_layer(layer3)
            for i, node in enumerate(lc.get("inbound_nodes", [])):
                args = _resolve(node.get("args", []), produced)
                kwargs = _resolve(node.get("kwargs", {}), produced)
                out = layer2(*args, **kwargs)
                produced[(name, i)] = list(out) if isinstance(out, (list, tuple)) else [out]

        def pick(spec):
            if spec and isinstance(spec[0], str):
                spec = [spec]
            return [produced[(n, node)][idx] for n, node, idx in spec]

        ins, outs = pick(cfg["input_layers"]), pick(cfg["output_layers"])
        model = k.Model(ins if len(ins) > 1 else ins[0], outs if len(outs) > 1 else outs[0], name=m3.name)
    for layer3 in m3.layers:
        if not layer3.weights or type(layer3).__name__ == "InputLayer":
            continue
        layer2 = model.get_layer(layer3.name)
        w3 = layer3.get_weights()
        if len(layer2.get_weights()) != len(w3):
            raise UnsupportedModelError(
                f"layer {layer3.name!r} ({type(layer3).__name__}) has {len(w3)} weights in Keras 3 and "
                f"{len(layer2.get_weights())} in tf_keras", hint="quantize only, or use standard layers")
        layer2.set_weights(w3)
    _check_same(m3, model)
    return model


def _check_same(m3, m2) -> None:
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-1, 1, (2, *[d or 1 for d in t.shape[1:]])).astype(np.float32) for t in m3.inputs]
    a = m3(xs if len(xs) > 1 else xs[0], training=False)
    b = m2(xs if len(xs) > 1 else xs[0], training=False)
    a = [np.asarray(t) for t in (a if isinstance(a, (list, tuple)) else [a])]
    b = [np.asarray(t) for t in (b if isinstance(b, (list, tuple)) else [b])]
    worst = max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))
    if worst > 1e-4:  # float32 reassociation only; anything larger is a different computation
        raise UnsupportedModelError(f"the tf_keras rebuild of Keras 3 model {m3.name!r} differs from it by {worst:.3g}",
                                    hint="quantize only, or report the model's layers to the edgelift team")


def _from_keras3(m3, source: str, kind: str) -> LoadedModel:
    try:
        return LoadedModel(rebuild_keras3(m3), source, kind, keras3=True)
    except UnsupportedModelError as exc:
        blocker = exc.message
    tmp = tempfile.TemporaryDirectory(prefix="edgelift-k3-")
    try:
        tensorflow()
        m3.export(tmp.name, format="tf_saved_model", verbose=False)
    except Exception as exc:
        tmp.cleanup()
        raise UnsupportedModelError(f"Keras 3 model {source} cannot be rebuilt ({blocker}) nor exported: "
                                    f"{_first_line(exc)}", hint="save it as a SavedModel yourself") from None
    return LoadedModel(None, source, kind, keras3=True, blocker=blocker, saved_model_dir=tmp.name, _tmp=tmp)


def count_params(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.weights))


def working_copy(model):
    """A clone with copied weights, so the user's in-memory model is never modified."""
    k = keras()
    hint = "TFMOT needs a Sequential or functional model; subclassed models can only be quantized"
    if not getattr(model, "_is_graph_network", False):
        raise UnsupportedModelError(
            f"model {model.name!r} ({type(model).__name__}) cannot be cloned for pruning/clustering/QAT: it is a "
            "subclassed model, not a graph of layers", hint=hint)
    try:
        clone = k.models.clone_model(model)
        clone.set_weights(model.get_weights())
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise UnsupportedModelError(
            f"model {model.name!r} ({type(model).__name__}) cannot be cloned for pruning/clustering/QAT: "
            f"{_first_line(exc)}", hint=hint) from None
    return clone
