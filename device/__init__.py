"""Runtimes, benchmarking, validation and deployment. Never imports TensorFlow.

runtime/ runs a model here; checking/ judges it (validate, diagnose, bench); remote/ gets it onto a device
over SSH (bundle, deploy, fleet); agent/ is what runs there; emulate/ is a Raspberry Pi without one.
bench_options.py sits above them: one BenchOptions serves bench here and emulated (checking/) and on a device
(remote/), which may not import each other.
"""
