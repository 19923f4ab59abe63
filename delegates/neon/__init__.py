"""The edgelift NEON delegate: a C TFLite external delegate with exact int8 kernels."""
