"""Delegates: `neon` (the C TFLite delegate) and `gpu` (the exact-integer XLA path)."""
