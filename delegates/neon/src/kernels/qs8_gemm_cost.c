/* The per-layer GEMM tile choice (see qs8_gemm_cost.h) and its calibration. */
#include "qs8_gemm_cost.h"

#include <string.h>

/* Fitted by `benchmarks/gemm_tile_cost.py --fit` (qemu-aarch64 -cpu cortex-a72 + llvm-mca 14 -mcpu=cortex-a72,
 * whose Cortex-A57 model also schedules -mcpu=cortex-a76, so one table serves the Pi 4 and the Pi 5): per pass
 * of r rows over one channel block, the cycles of m = r, n = 4 blocks at k = 64 and 512, divided by 4; a half
 * block, the same calls with n = 4 blocks + 8 channels less those without. The first fit left the half blocks
 * out and sent MobileNetV2's 3136 x 24 x 144 conv to the 2x8 tile: its 2.00 M est. Pi 4 cycles against 1.73 M. */
static const qs8_gemm_cost costs[] = {
#if defined(__aarch64__)
    /* rows left over run one at a time (1, 2, 3 rows: 1, 2, 3 one-row passes) */
    {"qs8_gemm_4x16__neondot", 4, 16, 4, {{103.9f, 1.069f}, {169.1f, 2.138f}, {234.3f, 3.206f}, {137.6f, 2.009f}},
     0, {{0, 0}, {0, 0}, {0, 0}, {0, 0}}},
    {"qs8_gemm_4x16c4__neon_mlal", 4, 16, 8, {{71.8f, 2.405f}, {95.1f, 4.165f}, {105.9f, 6.039f}, {130.2f, 8.065f}},
     8, {{94.9f, 1.527f}, {133.5f, 2.652f}, {186.6f, 3.780f}, {184.5f, 5.034f}}},
    /* one row: 8 accumulators of independent channels, where the 4x16c4's single row chains 4 (1.01 vs 1.20
     * cycles per k and 8 channels): the batch-1 FULLY_CONNECTED of a deep layer runs 2x8 on a Pi 4 */
    {"qs8_gemm_2x8__neon_mlal", 2, 8, 8, {{71.3f, 1.011f}, {115.1f, 2.014f}, {0, 0}, {0, 0}},
     0, {{0, 0}, {0, 0}, {0, 0}, {0, 0}}},
#endif
    {NULL, 0, 0, 0, {{0, 0}, {0, 0}, {0, 0}, {0, 0}}, 0, {{0, 0}, {0, 0}, {0, 0}, {0, 0}}},
};

const qs8_gemm_cost* qs8_gemm_cost_of(const qs8_gemm_ukernel* u) {
  for (const qs8_gemm_cost* c = costs; c->name != NULL; c++)
    if (strcmp(c->name, u->name) == 0) return c;
  return NULL;
}

static double pass_cost(const float (*pass)[2], size_t rows, size_t kp) {
  return (double)pass[rows - 1][0] + (double)pass[rows - 1][1] * (double)kp;
}

/* All m rows against one block: full passes, then the rows left over. */
static double rows_cost(const qs8_gemm_cost* c, const float (*pass)[2], size_t m, size_t kp) {
  double cost = (double)(m / c->mr) * pass_cost(pass, c->mr, kp);
  if (m % c->mr != 0) cost += pass_cost(pass, m % c->mr, kp);
  return cost;
}

double qs8_gemm_estimate(const qs8_gemm_cost* c, size_t m, size_t n, size_t k) {
  const size_t kp = (k + c->kr - 1) / c->kr * c->kr, rest = n % c->nr;
  const int half = rest != 0 && rest <= c->half_nr;
  const size_t blocks = n / c->nr + (rest != 0 && !half);
  return (double)blocks * rows_cost(c, c->pass, m, kp) + (half ? rows_cost(c, c->half, m, kp) : 0.0);
}

const qs8_gemm_ukernel* qs8_gemm_choose(unsigned features, const char* forced, size_t m, size_t n, size_t k) {
  const qs8_gemm_ukernel* first = qs8_gemm_select(features, forced);
  if (first == NULL || m == 0 || n == 0 || k == 0) return first;
  const qs8_gemm_ukernel* best = NULL;
  double best_cost = 0.0;
  for (const qs8_gemm_ukernel* u = qs8_gemm_ukernels; u->name != NULL; u++) {
    const qs8_gemm_cost* c = qs8_gemm_level_allows(u, features, forced) ? qs8_gemm_cost_of(u) : NULL;
    if (c == NULL) continue;
    const double e = qs8_gemm_estimate(c, m, n, k);
    if (best == NULL || e < best_cost) best = u, best_cost = e; /* ties: the earlier (best-first) variant */
  }
  return best != NULL ? best : first;
}
