# Native builds of the NEON delegate (included by the top-level Makefile). Libraries are replaced by rename,
# never rewritten in place, so processes that have one mapped (tests, emulated Pi) are not disturbed.
#   native-x86    : build/native (Release, -Wall -Wextra -Werror), copied into delegates/neon/ for the package
#   native-aarch64: cross build with aarch64-linux-gnu-gcc into build/aarch64/libedgelift_neon.so
#   native-asan   : ASan+UBSan build into build/asan/libedgelift_neon.so (used by tests/neon/test_sanitizers.py)
.PHONY: native-neon native-x86 native-aarch64 native-asan

NEON_SRCS := $(shell find delegates/neon/src delegates/neon/include -name '*.[ch]') delegates/neon/CMakeLists.txt CMakeLists.txt

native: native-neon
native-neon: native-x86 native-aarch64 native-asan

native-x86: delegates/neon/libedgelift_neon.so
delegates/neon/libedgelift_neon.so: $(NEON_SRCS)
	cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build/native --parallel
	cp build/native/delegates/neon/libedgelift_neon.so $@.tmp && mv -f $@.tmp $@

native-aarch64: build/aarch64/libedgelift_neon.so
build/aarch64/libedgelift_neon.so: $(NEON_SRCS) delegates/neon/aarch64-linux-gnu.cmake
	cmake -S . -B build/aarch64-cmake -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/delegates/neon/aarch64-linux-gnu.cmake >/dev/null
	cmake --build build/aarch64-cmake --parallel
	mkdir -p build/aarch64
	cp build/aarch64-cmake/delegates/neon/libedgelift_neon.so $@.tmp && mv -f $@.tmp $@

native-asan: build/asan/libedgelift_neon.so
build/asan/libedgelift_neon.so: $(NEON_SRCS)
	cmake -S . -B build/asan-cmake -DCMAKE_BUILD_TYPE=Debug -DEDGELIFT_SANITIZE=ON >/dev/null
	cmake --build build/asan-cmake --parallel
	mkdir -p build/asan
	cp build/asan-cmake/delegates/neon/libedgelift_neon.so $@.tmp && mv -f $@.tmp $@
