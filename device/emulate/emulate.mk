# The Pi cost meter's host side (included by the top-level Makefile): checks qemu-aarch64 (Debian's dynamic
# qemu-user, which loads TCG plugins) and llvm-mc/llvm-mca/llvm-nm, and builds the block-counting plugin into
# .cache/emulate/ (rebuilt only when its source changes). `make test` runs it through `native`.
.PHONY: emulate-tools

emulate-tools: $(STAMP) system-deps
	$(PY) -m edgelift.device.emulate.tools

native: emulate-tools
