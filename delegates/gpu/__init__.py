"""The exact-integer GPU validation path: a .tflite lowered to one jit-compiled JAX function."""
