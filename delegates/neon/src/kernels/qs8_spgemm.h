/* Block-sparse int8 GEMM microkernels: the same problem, signature and requantization as qs8_gemm.h (every
 * sparse variant *is* a qs8_gemm_ukernel, so the ops call it like a dense one), but `pack` keeps only the
 * weight blocks that hold a non-zero and `run` skips the rest.
 *
 * Block: 16 output channels x 4 consecutive values of k (a "k-group"; k padded to 4 with zeros), the column
 * width of the dense 4x16 microkernels (qs8_gemm_4x16c4__neon_mlal on the Pi 4, qs8_gemm_4x16__neondot on the
 * Pi 5). A sparse tile is then the dense kernel's inner loop run only over the non-zero k-groups of one
 * 16-channel column block: one load of an M-row x 4-k slice of A serves all 16 channels, and the weights of a
 * group sit in the layout the dense loop reads. With 1-channel blocks every block needed its own A loads and
 * a 4-channel transpose at the end, so a sparse MAC cost several dense ones (Pi 5 worst: SDOT by element wants
 * 4 channels of one k-group). Zero weights contribute nothing to the int32 sums: the sparse and the dense
 * kernels accumulate the same values, bit for bit (the bias fold uses every weight).
 *
 * Packed layout (all variants), per column block of 16 output channels (the last one padded with zero ones):
 *     int32  bias'[16]          bias[n] - a_zero_point * sum_k w[n][k] (qs8_gemm_fold_bias)
 *     uint32 groups, 0, 0, 0    non-zero k-groups of the block
 *     uint16 kg[groups]         their indices (k offset / 4), ascending, padded to a multiple of 8 entries
 *     int8   w[groups][64]      each group's 16 x 4 weights in the variant's layout:
 *              QS8_SPGEMM_C4:  channel-major, w[ch][0..3] for ch 0..15 (the SDOT-by-element layout)
 *              QS8_SPGEMM_K2:  two k pairs, each 16 channels x (k, k+1) interleaved (the SMLAL layout)
 * packed_size(n, k) is the bound for a dense matrix (it cannot see the weights).
 */
#ifndef EDGELIFT_QS8_SPGEMM_H
#define EDGELIFT_QS8_SPGEMM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qs8_gemm.h"

enum { QS8_SPGEMM_NR = 16, QS8_SPGEMM_KB = 4, QS8_SPGEMM_GROUP_BYTES = QS8_SPGEMM_NR * QS8_SPGEMM_KB };
enum { QS8_SPGEMM_C4 = 0, QS8_SPGEMM_K2 = 1 }; /* weight layouts of a k-group (above) */

/* Deepest k the NEON variants take: their A tile (4 rows x k bytes) lives on the stack, 16 KiB at most. */
#define QS8_SPGEMM_NEON_MAX_K 4096

typedef struct qs8_spgemm_ukernel {
  qs8_gemm_ukernel gemm; /* name, features, packed_size, pack, run: callable as any GEMM variant */
  /* Cost rule (see qs8_spgemm_registry.c): run sparse when the block density of the node's weights is at most
   * break_even_density - break_even_k / k, the density at which the meter measured this variant as fast as the
   * dense one it replaces (a fixed cost per output and per row tile that a shallow k cannot repay).
   * break_even_density 0 = never chosen automatically. */
  float break_even_density;
  float break_even_k;
  size_t max_k;      /* deepest reduction the variant takes (its on-stack tile of A; the uint16 group index) */
  size_t rows;       /* rows of A per tile: a partial tile costs a whole one */
  int no_minus128;   /* 1: weights must lie in [-127, 127] (two products per int16 lane) */
  int layout;        /* QS8_SPGEMM_C4 or QS8_SPGEMM_K2: how its pack lays out a group's weights */
} qs8_spgemm_ukernel;

/* Best first, terminated by name == NULL. */
extern const qs8_spgemm_ukernel qs8_spgemm_ukernels[];

/* Fraction of the 16x4 blocks of w[n][k] (n padded to 16, k to 4) that hold at least one non-zero (1.0 for
 * dense weights). */
double qs8_spgemm_block_density(size_t n, size_t k, const int8_t* w);

/* The sparse variant for `features` / `forced` (the same classes as qs8_gemm_select: NULL or "auto" = best the
 * CPU has, "scalar", "neon", "dot"), or NULL. The density rule is the caller's (kernel_choice.c). */
const qs8_spgemm_ukernel* qs8_spgemm_select(unsigned features, const char* forced);

static inline size_t qs8_spgemm_groups(size_t k) { return (k + QS8_SPGEMM_KB - 1) / QS8_SPGEMM_KB; }

enum { QS8_SPGEMM_HEADER = QS8_SPGEMM_NR * 4 + 16 };

static inline size_t qs8_spgemm_index_bytes(size_t groups) { return (groups + 7) / 8 * 8 * sizeof(uint16_t); }

static inline size_t qs8_spgemm_packed_bound(size_t n, size_t k) {
  const size_t blocks = (n + QS8_SPGEMM_NR - 1) / QS8_SPGEMM_NR, g = qs8_spgemm_groups(k);
  return blocks * (QS8_SPGEMM_HEADER + qs8_spgemm_index_bytes(g) + g * QS8_SPGEMM_GROUP_BYTES);
}

/* Weight w[c][kg*4 + i], 0 past n and past k. */
static inline int8_t qs8_spgemm_weight(const int8_t* w, size_t n, size_t k, size_t c, size_t kg, size_t i) {
  const size_t col = kg * QS8_SPGEMM_KB + i;
  return c < n && col < k ? w[c * k + col] : 0;
}

static inline int qs8_spgemm_group_used(const int8_t* w, size_t n, size_t k, size_t n0, size_t kg) {
  for (size_t j = 0; j < QS8_SPGEMM_NR; j++)
    for (size_t i = 0; i < QS8_SPGEMM_KB; i++)
      if (qs8_spgemm_weight(w, n, k, n0 + j, kg, i) != 0) return 1;
  return 0;
}

/* Byte of a group's 64 weights that holds channel j, k offset i (0..3), in `layout`. */
static inline size_t qs8_spgemm_group_offset(int layout, size_t j, size_t i) {
  if (layout == QS8_SPGEMM_C4) return j * QS8_SPGEMM_KB + i;
  return (i / 2) * (2 * QS8_SPGEMM_NR) + j * 2 + i % 2; /* pair i/2: [ch0 k0 k1, ch1 k0 k1, ...] */
}

/* The shared packing (layout above); every variant's `pack` is this with its own group layout. */
static inline void qs8_spgemm_pack_blocks(int layout, size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                          int32_t a_zero_point, void* packed) {
  uint8_t* out = (uint8_t*)packed;
  const size_t kgs = qs8_spgemm_groups(k);
  for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR) {
    int32_t b[QS8_SPGEMM_NR];
    qs8_gemm_fold_bias(n0, QS8_SPGEMM_NR, n, k, w, bias, a_zero_point, b);
    uint32_t head[4] = {0, 0, 0, 0};
    for (size_t kg = 0; kg < kgs; kg++) head[0] += (uint32_t)qs8_spgemm_group_used(w, n, k, n0, kg);
    memcpy(out, b, sizeof(b));
    memcpy(out + sizeof(b), head, sizeof(head));
    uint16_t* idx = (uint16_t*)(void*)(out + QS8_SPGEMM_HEADER);
    const size_t ibytes = qs8_spgemm_index_bytes(head[0]);
    memset(idx, 0, ibytes);
    int8_t* vals = (int8_t*)(out + QS8_SPGEMM_HEADER + ibytes);
    size_t at = 0;
    for (size_t kg = 0; kg < kgs; kg++) {
      if (!qs8_spgemm_group_used(w, n, k, n0, kg)) continue;
      idx[at] = (uint16_t)kg;
      int8_t* g = vals + at * QS8_SPGEMM_GROUP_BYTES;
      for (size_t j = 0; j < QS8_SPGEMM_NR; j++)
        for (size_t i = 0; i < QS8_SPGEMM_KB; i++)
          g[qs8_spgemm_group_offset(layout, j, i)] = qs8_spgemm_weight(w, n, k, n0 + j, kg, i);
      at++;
    }
    out = (uint8_t*)(vals + head[0] * QS8_SPGEMM_GROUP_BYTES);
  }
}

/* One packed column block: its folded bias, its non-zero k-groups and where the next block starts. */
typedef struct qs8_spgemm_block {
  const int32_t* bias; /* [16] */
  uint32_t groups;
  const uint16_t* idx;
  const int8_t* w; /* [groups][64] */
  const uint8_t* next;
} qs8_spgemm_block;

static inline qs8_spgemm_block qs8_spgemm_read_block(const uint8_t* at) {
  qs8_spgemm_block b;
  b.bias = (const int32_t*)(const void*)at;
  memcpy(&b.groups, at + QS8_SPGEMM_NR * 4, sizeof(b.groups));
  b.idx = (const uint16_t*)(const void*)(at + QS8_SPGEMM_HEADER);
  b.w = (const int8_t*)(at + QS8_SPGEMM_HEADER + qs8_spgemm_index_bytes(b.groups));
  b.next = (const uint8_t*)(b.w + (size_t)b.groups * QS8_SPGEMM_GROUP_BYTES);
  return b;
}

#endif
