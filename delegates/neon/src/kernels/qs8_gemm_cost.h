/* The per-layer GEMM tile choice: estimated cost of each dense qs8 GEMM variant on a layer's shape, and the choice
 * of the cheapest among those a CPU (or a forced kernels= level) allows.
 *
 * A variant's cost is its passes: a pass runs `r` rows of A (1 <= r <= mr, the register tile's rows) against one
 * block of `nr` output channels, and costs pass[r - 1][0] + pass[r - 1][1] * k' estimated cycles, k' being k
 * rounded up to the variant's k granule `kr`. An m x n x k call makes ceil(n / nr) blocks of floor(m / mr) full
 * passes plus one pass of the m % mr rows left over (where a variant runs those one row at a time, as the neondot
 * one does, its measured pass of r rows says so). A variant with half blocks (the 4x16c4: a last block of at most
 * half_nr real channels multiplies only those) costs such a last block half[r - 1] instead. The coefficients are fitted to the Pi cost meter's estimated
 * cycles (qemu + llvm-mca, benchmarks/gemm_tile_cost.py --fit), so the rule is an ESTIMATE like the meter's. */
#ifndef EDGELIFT_QS8_GEMM_COST_H
#define EDGELIFT_QS8_GEMM_COST_H

#include <stddef.h>

#include "qs8_gemm.h"

enum { QS8_GEMM_COST_MAX_MR = 4 };

typedef struct qs8_gemm_cost {
  const char* name; /* the variant (qs8_gemm_ukernels) these figures belong to */
  unsigned mr, nr, kr;
  float pass[QS8_GEMM_COST_MAX_MR][2]; /* [r - 1]: fixed cycles, cycles per k' */
  unsigned half_nr;                    /* 0: every block costs a whole one */
  float half[QS8_GEMM_COST_MAX_MR][2]; /* a last block of n % nr <= half_nr channels, as pass */
} qs8_gemm_cost;

/* The cost entry of a variant, or NULL (a variant not metered: the portable and the x86 ones). */
const qs8_gemm_cost* qs8_gemm_cost_of(const qs8_gemm_ukernel* u);

/* Estimated cycles of one m x n x k call (m, n, k >= 1). */
double qs8_gemm_estimate(const qs8_gemm_cost* cost, size_t m, size_t n, size_t k);

/* The variant for an m x n x k layer among those qs8_gemm_select would consider for `features` / `forced`: the
 * cheapest by estimate among the metered ones; where none is metered (x86, kernels=scalar) or m is 0 (unknown),
 * qs8_gemm_select's choice. NULL where the level allows none. */
const qs8_gemm_ukernel* qs8_gemm_choose(unsigned features, const char* forced, size_t m, size_t n, size_t k);

#endif
