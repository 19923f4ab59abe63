"""Is the model still right, and how fast is it? Measured here, on this machine (or an emulated Pi).

validate (with references, compare, validation_result, verdict): a model against a reference, gated on
thresholds; diagnose (diagnose_advice, tensor_stats): which layer loses accuracy, and what to do; bench:
latency per delegate side by side (or estimated Pi cost through edgelift.device.emulate); report_html: the
HTML reports of both. Builds on edgelift.device.runtime; never reaches a device (edgelift.device.remote does).
"""
