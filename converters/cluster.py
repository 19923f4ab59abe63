"""Weight clustering (weight sharing) with TFMOT; sparsity-preserving when the model was pruned first."""

from __future__ import annotations

import numpy as np

from edgelift._tf import keras, tfmot
from edgelift.errors import InvalidArgumentError

from .policy import CLUSTERABLE, LayerPolicy, layer_type
from .train import fit
from .warn import warn


def check_clusters(n) -> int:
    try:
        value = int(str(n).strip())
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"--cluster {n!r} is not a whole number", hint="e.g. --cluster 16") from None
    if value < 2 or value > 256:
        raise InvalidArgumentError(f"--cluster {n} is outside 2..256", hint="int8 weights take at most 256 values; "
                                   "16 is a common choice")
    return value


def distinct_values(layer) -> int:
    w = getattr(layer, CLUSTERABLE[layer_type(layer)][0]).numpy()
    return int(np.unique(w).size)


def cluster(model, n_clusters: int, policy: LayerPolicy | None = None, train=None, *, preserve_sparsity: bool,
            epochs: int = 1, batch_size: int = 32, loss=None) -> tuple[object, dict]:
    """Cluster the selected layers' kernels into `n_clusters` centroids; returns (stripped model, info)."""
    mot = tfmot()
    ck = mot.clustering.keras
    policy = policy or LayerPolicy()
    names = {layer.name for layer in policy.select(model, "clustering")}
    params = {
        "number_of_clusters": n_clusters,
        "cluster_centroids_init": ck.CentroidInitialization.KMEANS_PLUS_PLUS,
        "preserve_sparsity": preserve_sparsity,
    }

    def wrap(layer):
        return ck.cluster_weights(layer, **params) if layer.name in names else layer

    wrapped = keras().models.clone_model(model, clone_function=wrap)
    if train is not None:
        x, y = train
        fit(wrapped, x, y, epochs=epochs, batch_size=batch_size, desc="fine-tuning (clustering)",
            learning_rate=1e-4, loss=loss)
    else:
        warn(f"clustered to {n_clusters} weights per layer without training data: accuracy is unchecked; "
             "pass --train-data to fine-tune and --eval-data to measure it")
    stripped = ck.strip_clustering(wrapped)
    per_layer = [{"layer": n, "distinct_values": distinct_values(stripped.get_layer(n))} for n in sorted(names)]
    return stripped, {"clusters": n_clusters, "preserve_sparsity": preserve_sparsity,
                      "fine_tuned": train is not None, "layers": per_layer}
