# The emulated Raspberry Pi (Debian bookworm arm64 python3.11 + TFLite runtimes under qemu-user), built by
# device/emulate/pi_root.py into .cache/emulated-pi/ and reused while its stamp matches the script's inputs
# (a cold build downloads ~40 MB of .debs and wheels; a warm one is a stamp check). `make emulated-pi` alone
# builds it; `make test` builds it before pytest through `native`.
.PHONY: emulated-pi emulated-pi-test

emulated-pi: $(STAMP)
	$(PY) -m edgelift.device.emulate.pi_root

native: emulated-pi

# Only the emulated-Pi tests (the aarch64 delegate tests need the cross-built delegate: `make native`).
emulated-pi-test: emulated-pi
	$(PY) -m pytest -q -ra tests/emulated_pi $(PYTEST_ARGS)
