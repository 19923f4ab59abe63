"""Which layers get pruned or clustered, and which weights of a layer are prunable.

A data-driven registry (layer type -> prunable weight attributes, and which pruning kinds the layer's
weight layout supports) plus a small policy object that picks layers by name or type. Defaults keep the
first convolution (few weights, very sensitive) and the final classifier dense.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from edgelift.errors import InvalidArgumentError, UnsupportedModelError

KINDS = ("unstructured", "2:4", "block")

# layer class name -> (prunable weight attributes, pruning kinds the layout supports)
# 2:4 and block need a weight whose last TFLite axis is the input channels (CONV_2D [O,KH,KW,I],
# FULLY_CONNECTED [O,I]); depthwise kernels have no reduction over channels, TFMOT leaves them alone too.
REGISTRY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Conv2D": (("kernel",), KINDS),
    "Conv1D": (("kernel",), KINDS),
    "Dense": (("kernel",), KINDS),
    "Conv2DTranspose": (("kernel",), ("unstructured",)),
    "SeparableConv1D": (("pointwise_kernel",), ("unstructured",)),
    "SeparableConv2D": (("pointwise_kernel",), ("unstructured",)),
}

# Layers clustering (weight sharing) handles; TFMOT's clustering registry covers these.
CLUSTERABLE: dict[str, tuple[str, ...]] = {
    "Conv2D": ("kernel",),
    "Conv1D": ("kernel",),
    "Dense": ("kernel",),
    "DepthwiseConv2D": ("depthwise_kernel",),
    "Conv2DTranspose": ("kernel",),
}


def layer_type(layer) -> str:
    return type(layer).__name__


def prunable_weights(layer) -> tuple[str, ...]:
    entry = REGISTRY.get(layer_type(layer))
    return entry[0] if entry else ()


def _matches(layer, selector: str) -> bool:
    return selector == layer.name or selector == layer_type(layer)


@dataclass
class LayerPolicy:
    """Pick the layers to transform.

    only:       names or types to transform (None = every supported layer)
    keep_dense: names or types to leave alone (None = defaults: the first conv and the final classifier;
                an empty list = none)
    """

    only: list[str] | None = None
    keep_dense: list[str] | None = None
    reasons: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def default_dense(model, registry: dict) -> list[str]:
        names = [layer.name for layer in model.layers if layer_type(layer) in registry]
        out = []
        convs = [layer for layer in model.layers if "Conv" in layer_type(layer) and layer_type(layer) in registry]
        if convs:
            out.append(convs[0].name)
        dense = [layer for layer in model.layers if layer_type(layer) == "Dense"]
        if dense and dense[-1].name == (names[-1] if names else None):
            out.append(dense[-1].name)
        return out

    def _check_selectors(self, model, selectors: list[str], flag: str) -> None:
        names = [layer.name for layer in model.layers]
        types = sorted({layer_type(layer) for layer in model.layers})
        for s in selectors:
            if s in names or s in types:
                continue
            close = difflib.get_close_matches(s, names + types, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else f"layer names: {', '.join(names)}"
            raise InvalidArgumentError(f"{flag} {s!r} matches no layer name or type in the model", hint=hint)

    def select(self, model, what: str = "pruning", kind: str = "unstructured") -> list:
        """The layers to transform, in model order. Raises when an explicitly named layer cannot be."""
        registry = REGISTRY if what == "pruning" else CLUSTERABLE
        if self.only:
            self._check_selectors(model, self.only, "--prune-layers" if what == "pruning" else "--cluster-layers")
        if self.keep_dense:
            self._check_selectors(model, self.keep_dense, "--keep-dense")
        keep = self.default_dense(model, registry) if self.keep_dense is None else list(self.keep_dense)
        chosen = []
        self.reasons = {}
        for layer in model.layers:
            explicit = bool(self.only) and any(_matches(layer, s) for s in self.only)
            if self.only and not explicit:
                continue
            t = layer_type(layer)
            supported = t in registry and (what != "pruning" or kind in registry[t][1])
            if not supported:
                if explicit:
                    allowed = sorted(t for t, v in registry.items() if what != "pruning" or kind in v[1])
                    raise UnsupportedModelError(
                        f"layer {layer.name!r} ({t}) cannot take {kind + ' ' if what == 'pruning' else ''}{what}; "
                        f"supported layer types: {', '.join(allowed)}",
                        hint=f"remove {layer.name!r} from the layer selection",
                    )
                continue
            named = bool(self.only) and layer.name in self.only
            if any(_matches(layer, s) for s in keep) and not named:
                self.reasons[layer.name] = "kept dense"
                continue
            chosen.append(layer)
            self.reasons[layer.name] = what
        if not chosen:
            raise UnsupportedModelError(
                f"no layer of the model can take {what} with this selection "
                f"(layers: {', '.join(f'{lyr.name}:{layer_type(lyr)}' for lyr in model.layers)})",
                hint="select layers with --prune-layers, or allow defaults with --keep-dense none",
            )
        return chosen
