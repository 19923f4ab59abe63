/* The kernel testers' shared pseudo-random source: xorshift64, deterministic, so every run (and every variant
 * when a tester resets rng_state) sees the same cases. A tester may #define TESTER_SEED before including it. */
#ifndef EDGELIFT_TESTER_RNG_H
#define EDGELIFT_TESTER_RNG_H

#include <stdint.h>

#ifndef TESTER_SEED
#define TESTER_SEED 0x9E3779B97F4A7C15ull
#endif

static uint64_t rng_state = TESTER_SEED;

static inline uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}

/* uniform in [lo, hi] (the modulo bias is irrelevant to a test) */
static inline int32_t rnd_range(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }

#endif
