/* EL_MULTIVERSION: one library for every x86-64 machine — GCC builds an AVX2 clone of the portable kernels it
 * marks, and the loader picks it where the CPU has AVX2. Nothing elsewhere (clang, aarch64, the ASan build). */
#ifndef EL_MULTIVERSION_H
#define EL_MULTIVERSION_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define EL_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define EL_MULTIVERSION
#endif

#endif
