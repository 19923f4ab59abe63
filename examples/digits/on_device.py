"""The demo's second and third jobs: validate the int8 model on the desktop, then deploy it to an emulated
Raspberry Pi and run it there — the same calls a user makes with a real Pi (only the host differs).

    validate   NEON delegate vs LiteRT's builtin kernels on the test images, bit for bit; accuracy vs Keras
    deploy     a loopback sshd + the qemu userland as a Pi 4 (edgelift.device.emulate.pi_host, started and
               stopped here): the float model with XNNPACK, then the int8 model with our delegate, each
               self-checked on the device; `run` classifies two test images there (each `run` starts the
               emulated Python afresh: seconds under qemu)
"""

from __future__ import annotations

from pathlib import Path


def validate_on_desktop(int8_model: Path, keras_model: Path, test_data: Path) -> None:
    import edgelift

    print(f"\n$ edgelift validate {int8_model.name} --delegate neon --reference-delegate builtin --exact "
          f"--data {test_data.name}")
    exact = edgelift.validate(int8_model, data=test_data, delegate="neon", reference_delegate="builtin", exact=True)
    print(exact.format())
    print(f"\n$ edgelift validate {int8_model.name} -r {keras_model.name} --delegate neon --data {test_data.name} "
          "--max-accuracy-drop 2%")
    accuracy = edgelift.validate(int8_model, reference=keras_model, data=test_data, delegate="neon",
                                 max_accuracy_drop="2%")
    print(accuracy.format())


def deploy_to_emulated_pi(models: list[Path], test_data: Path, out: Path, board: str = "pi4",
                          images: int = 2) -> None:
    """Deploy each model in turn to the emulated `board` and classify `images` test images on it."""
    import numpy as np

    import edgelift
    from edgelift.device.emulate import pi_host
    from edgelift.device.remote import api as dep

    print(f"\n$ edgelift emulate {board}    (an emulated Raspberry Pi: loopback sshd + qemu; the first time it "
          "builds .cache/emulated-pi, about 2 minutes)")
    with np.load(test_data) as z:
        x, y = z["x"][:images], z["y"][:images]
    with pi_host.start(board, folder=out / f"emulated-{board}") as pi:
        print(pi.describe())
        remote = dict(ssh_config=pi.ssh_config, remote_python=str(pi.python), remote_dir=str(pi.dir / "device"))
        for model in models:
            print(f"\n$ edgelift deploy {model.name} {pi.deploy_flags}")
            result = edgelift.deploy(model, pi.alias, target="rpi4" if board == "pi4" else "rpi5",
                                     progress=lambda msg: print(f"  {msg}", flush=True), **remote)
            print(result.summary())
            print(f"$ edgelift run {pi.deploy_flags} --input digits.npy -o scores.npy    ({images} test images)")
            predicted, latency, meta = [], [], {}
            for image in x:
                outputs, meta = dep.run_remote(pi.alias, image[None].astype(np.float32), **remote)
                predicted.append(int(np.argmax(outputs[0])))
                latency.append(meta["latency_ms"])
            right = sum(int(p == t) for p, t in zip(predicted, y, strict=True))
            print(f"  on the emulated {board} ({meta['runtime']} {meta['runtime_version']}, delegate "
                  f"{meta['delegate']}): predicted {predicted}, labels {[int(t) for t in y]}: {right} of {images} "
                  f"right; median invoke {float(np.median(latency)):.2f} ms (qemu time, not a Pi's)")
    print(f"\nstopped the emulated {board}")
