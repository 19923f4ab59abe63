"""Fixtures of the emulated-Pi tests: the emulated Pi itself, int8 models converted on x86, their inputs and the
x86-64 reference outputs (LiteRT 2.3, BUILTIN_WITHOUT_DEFAULT_DELEGATES)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.emulated_pi.pi import emulated_pi  # noqa: F401  (the session fixture)
from tests.emulated_pi.runner import run_job

# name -> (modelkit builder name, kwargs or positional args). Small op-level models on tile edges plus two whole models.
OP_MODELS = {
    "conv3x3_c3_f8": ("conv2d", {}),
    "conv_s2_valid_relu6_f17": ("conv2d", {"shape": (11, 11, 7), "filters": 17, "strides": 2, "padding": "valid",
                                           "activation": "relu6"}),
    "conv_dilated_relu_f9": ("conv2d", {"shape": (9, 9, 4), "filters": 9, "dilation": 2, "activation": "relu"}),
    "conv1x1_c16_f64": ("conv2d", {"shape": (5, 5, 16), "filters": 64, "kernel": 1}),
    "depthwise_m2_s2": ("depthwise_conv2d", {"shape": (9, 9, 3), "multiplier": 2, "strides": 2}),
    "depthwise_c17_relu6": ("depthwise_conv2d", {"shape": (7, 7, 17), "activation": "relu6"}),
    "dense_33x7": ("dense", {"features": 33, "units": 7}),
    "add_relu": ("binary", {"op": "add", "activation": "relu"}),
    "mul_broadcast": ("binary", {"op": "mul", "broadcast": True}),
    # pool() and activation() take `kind` positionally: modelkit.cached has a `kind` parameter of its own.
    "avg_pool_same": ("pool", ("avg", (9, 9, 5), 3, 2, "same")),
    "max_pool": ("pool", ("max",)),
    "mean": ("mean", {}),
    "pad": ("pad", {}),
    "concat": ("concat", {}),
    "reshape_softmax": ("reshape_softmax", {}),
    "hard_swish": ("activation", ("hard_swish",)),
    "logistic": ("activation", ("sigmoid",)),
    # tests/opcatalogue.py sweep models: every broadcast path of ADD and MUL, on random inputs here
    "sweep_add_rescaling": ("sweep", "add-mnv3_rescaling"),
    "sweep_mul_se": ("sweep", "mul-mnv3_se"),
    # BATCH_MATMUL: every flag, broadcast (folded too), tile edges; variable RHS and constant RHS
    "sweep_batch_matmul_offsets": ("sweep", "batch_matmul-offsets"),
    "sweep_batch_matmul_const_zp": ("sweep", "batch_matmul-const_zp_extremes"),
}
# The full MobileNetV2 (224x224, alpha 1.0: modelkit's defaults, so the conversion cache is shared with other
# tests): under qemu one delegated invoke takes about 0.6 s (NEON) to 1.6 s (scalar), affordable for every variant.
MOBILENET_V2: dict = {}


def _model_bytes(builder: str, args: dict | tuple | str) -> bytes:
    from tests import modelkit

    if builder == "sweep":
        from tests import opcatalogue

        return opcatalogue.convert(next(s for s in opcatalogue.SWEEPS if s.id == args))

    if isinstance(args, tuple):
        return modelkit.cached("int8", getattr(modelkit, builder), *args)
    return modelkit.cached("int8", getattr(modelkit, builder), **args)


def _digits_bytes() -> bytes:
    from tests import modelkit

    # training the CNN takes a while: keep the conversion; the session's one training (digits_cnn)
    path = modelkit.CACHE / f"digits_int8-e{modelkit.DIGITS_EPOCHS}.tflite"
    if not path.exists():
        data = modelkit.digits_int8()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path.read_bytes()


def _random_inputs(model_path: Path, seed: int) -> dict[str, np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    rng = np.random.default_rng(seed)
    arrays = {}
    for i, d in enumerate(Interpreter(model_path=str(model_path)).get_input_details()):
        if d["dtype"] == np.int8:
            arrays[f"arg{i}"] = rng.integers(-128, 128, d["shape"], dtype=np.int8)
        else:
            arrays[f"arg{i}"] = rng.uniform(-1, 1, d["shape"]).astype(d["dtype"])
    return arrays


class Case:
    """A model file, its input file and its x86-64 reference outputs."""

    def __init__(self, name: str, folder: Path, data: bytes, seed: int, inputs: list[np.ndarray] | None = None):
        """inputs: the model's inputs in order (e.g. a sweep's exhaustive ones); None: random from `seed`."""
        import ai_edge_litert.interpreter as litert

        self.name = name
        self.model = folder / f"{name}.tflite"
        self.model.write_bytes(data)
        self.inputs = folder / f"{name}.inputs.npz"
        arrays = _random_inputs(self.model, seed) if inputs is None else {f"arg{i}": x for i, x in enumerate(inputs)}
        np.savez(self.inputs, **arrays)
        ref = folder / f"{name}.x86.npz"
        result = run_job(litert, {"model": str(self.model), "inputs": str(self.inputs), "out": str(ref),
                                  "resolver": "builtin_without_default_delegates"})
        assert result["ok"], result
        with np.load(ref) as z:
            self.reference = {k: z[k] for k in z.files}

    def job(self, out: Path, delegate: dict | None = None, tag: str = "") -> dict:
        return {"name": self.name + tag, "model": str(self.model), "inputs": str(self.inputs), "out": str(out),
                "resolver": "builtin_without_default_delegates", "delegate": delegate}


def assert_identical(case: Case, out: Path, what: str) -> None:
    with np.load(out) as z:
        got = {k: z[k] for k in z.files}
    assert got.keys() == case.reference.keys(), f"{case.name} ({what}): outputs {sorted(got)}"
    for key, want in case.reference.items():
        have = got[key]
        assert have.dtype == want.dtype and have.shape == want.shape, \
            f"{case.name} ({what}) {key}: {have.dtype}{have.shape} vs x86 {want.dtype}{want.shape}"
        if not np.array_equal(have, want):
            diff = np.flatnonzero(have.ravel() != want.ravel())
            i = int(diff[0])
            raise AssertionError(f"{case.name} ({what}) {key}: {diff.size} of {want.size} values differ from x86-64; "
                                 f"first at flat index {i}: expected {want.ravel()[i]}, got {have.ravel()[i]}")


def identical_problem(case: Case, result: dict, out: Path, what: str) -> str | None:
    """One batch job's result held to assert_identical, as a line for a list of problems (None when identical):
    the tests that run many jobs in one batch report every failure at once."""
    if not result["ok"]:
        return f"{case.name} ({what}): {result.get('error')} {result.get('log', '')[-400:]}"
    try:
        assert_identical(case, out, what)
    except AssertionError as exc:
        return str(exc)
    return None


def steps_off(case: Case, out: Path, what: str, max_steps: int = 2, max_share: float = 0.01) -> int:
    """Values that differ from the x86-64 reference; fails when any is more than `max_steps` quantization steps
    off or more than `max_share` of the values differ.

    The Pi's own builtin kernels round some ties differently from x86-64 LiteRT 2.3 (see
    test_builtin_int8_kernels_on_aarch64_stay_close_to_x86), so they get this bound; the NEON delegate is held
    to identical outputs (assert_identical). A small output (the digits CNN's 10 logits, retrained each CI run)
    may still hold one tie: `max_share` of 10 values would allow none, so at least one value may differ.
    """
    off = 0
    with np.load(out) as got:
        assert sorted(got.files) == sorted(case.reference), f"{case.name} ({what}): outputs {sorted(got.files)}"
        for key, want in case.reference.items():
            have = got[key]
            assert have.dtype == want.dtype and have.shape == want.shape, \
                f"{case.name} ({what}) {key}: {have.dtype}{have.shape} vs x86 {want.dtype}{want.shape}"
            diff = np.abs(have.astype(np.int32) - want.astype(np.int32))
            n = int(np.count_nonzero(diff))
            assert diff.max() <= max_steps, f"{case.name} {key} ({what}): off by up to {diff.max()} from x86"
            allowed = max(1, int(max_share * diff.size))
            assert n <= allowed, f"{case.name} {key} ({what}): {n} of {diff.size} values differ (allowed {allowed})"
            off += n
    return off


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("emulated-pi-models")


@pytest.fixture(scope="session")
def small_cases(model_dir) -> list[Case]:
    """Three small int8 models for the runtime checks without a delegate."""
    names = ("conv3x3_c3_f8", "depthwise_c17_relu6", "reshape_softmax")
    return [Case(n, model_dir, _model_bytes(*OP_MODELS[n]), seed=i) for i, n in enumerate(names)]


@pytest.fixture(scope="session")
def op_cases(model_dir, small_cases) -> list[Case]:
    have = {c.name: c for c in small_cases}
    return [have.get(n) or Case(n, model_dir, _model_bytes(b, kw), seed=10 + i)
            for i, (n, (b, kw)) in enumerate(OP_MODELS.items())]


@pytest.fixture(scope="session")
def whole_cases(model_dir) -> list[Case]:
    return [Case("digits_cnn", model_dir, _digits_bytes(), seed=100),
            Case("mobilenet_v2_224", model_dir, _model_bytes("mobilenet_v2", MOBILENET_V2), seed=101)]
