"""Runtimes, benchmarking, validation and deployment. Never imports TensorFlow."""
