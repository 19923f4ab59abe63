# The two commands a newcomer needs: `make demo` and `make test`. Both create or reuse .venv.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.edgelift-installed

.PHONY: demo test venv system-deps lint native pytest clean

demo: $(STAMP) native-aarch64 emulated-pi
	$(PY) examples/digits/run.py

test: system-deps $(STAMP) lint native pytest

# Debian packages the tests use (cross compiler, qemu-user, OpenSSH, llvm-mca). Idempotent.
system-deps:
	bash .ci/system-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml CMakeLists.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

lint: $(STAMP)
	$(VENV)/bin/ruff check .

pytest: $(STAMP)
	$(PY) -m pytest -q -ra $(PYTEST_ARGS)

clean:
	rm -rf build .pytest_cache .ruff_cache

# Native builds and their tests, one file per component.
-include delegates/neon/neon.mk
-include tests/emulated_pi/pi.mk
-include device/emulate/emulate.mk
