"""Model loading, pruning, clustering, quantization and TFLite emission (imports TensorFlow lazily)."""
