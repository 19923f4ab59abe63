/* Block-sparse int8 GEMM microkernels: the same problem, signature and requantization as qs8_gemm.h (every
 * sparse variant *is* a qs8_gemm_ukernel, so the ops call it like a dense one), but `pack` keeps only the
 * weight blocks that hold a non-zero and `run` skips the rest.
 *
 * Block: 1 output channel x 4 consecutive values of k, starting at a multiple of 4 (k padded to 4 with zeros).
 * Every block shape `convert --prune-kind block` emits whose input side is a multiple of 4 (1x4, 1x8, 2x4, 4x4,
 * ...) is a union of these, so one format serves them all. Zero weights contribute nothing to the int32 sums:
 * the sparse and the dense kernels accumulate the same values, bit for bit (the bias fold uses every weight).
 *
 * Packed layout (all variants), per group of 4 output channels (the last group padded with empty channels):
 *     int32  bias'[4]       bias[n] - a_zero_point * sum_k w[n][k] (qs8_gemm_fold_bias)
 *     uint32 blocks[4]      non-zero blocks of each channel
 *     for each channel j: uint16 kb[blocks[j]] (block index: k offset / 4), then int8 w[blocks[j]][4],
 *                         padded to a multiple of 4 bytes
 * packed_size(n, k) is the bound for a dense matrix (it cannot see the weights): 1.5x the int8 weights.
 */
#ifndef EDGELIFT_QS8_SPGEMM_H
#define EDGELIFT_QS8_SPGEMM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qs8_gemm.h"

enum { QS8_SPGEMM_NR = 4, QS8_SPGEMM_KB = 4 };

/* Deepest k the NEON variants take: their A tile (MR x k bytes) lives on the stack, 32 KiB at most. */
#define QS8_SPGEMM_NEON_MAX_K 4096
#define QS8_SPGEMM_DOT_MAX_K 1024

typedef struct qs8_spgemm_ukernel {
  qs8_gemm_ukernel gemm; /* name, features, packed_size, pack, run: callable as any GEMM variant */
  /* Cost rule (see qs8_spgemm_registry.c): run sparse when the block density of the node's weights is at most
   * break_even_density - break_even_k / k, the density at which the meter measured this variant as fast as the
   * dense one it replaces (a fixed cost per output, requantization and stores, that a shallow k cannot repay).
   * break_even_density 0 = never chosen automatically. */
  float break_even_density;
  float break_even_k;
  size_t max_k; /* deepest reduction the variant takes (its on-stack tile of A; the uint16 block index) */
  int no_minus128; /* 1: weights must lie in [-127, 127] (two products per int16 lane) */
} qs8_spgemm_ukernel;

/* Best first, terminated by name == NULL. */
extern const qs8_spgemm_ukernel qs8_spgemm_ukernels[];

/* Fraction of the 1x4 blocks of w[n][k] that hold at least one non-zero (1.0 for dense weights). */
double qs8_spgemm_block_density(size_t n, size_t k, const int8_t* w);

/* The sparse variant for `features` / `forced` (the same classes as qs8_gemm_select: NULL or "auto" = best the
 * CPU has, "scalar", "neon", "dot"), or NULL. The density rule is the caller's (kernel_choice.c). */
const qs8_spgemm_ukernel* qs8_spgemm_select(unsigned features, const char* forced);

static inline size_t qs8_spgemm_blocks(size_t k) { return (k + QS8_SPGEMM_KB - 1) / QS8_SPGEMM_KB; }

static inline size_t qs8_spgemm_channel_bytes(size_t blocks) {
  return (blocks * (sizeof(uint16_t) + QS8_SPGEMM_KB) + 3) / 4 * 4;
}

static inline size_t qs8_spgemm_packed_bound(size_t n, size_t k) {
  const size_t groups = (n + QS8_SPGEMM_NR - 1) / QS8_SPGEMM_NR;
  return groups * (QS8_SPGEMM_NR * (2 * sizeof(int32_t) + qs8_spgemm_channel_bytes(qs8_spgemm_blocks(k))));
}

/* Weight w[c][kb*4 + i], 0 past k. */
static inline int8_t qs8_spgemm_weight(const int8_t* w, size_t k, size_t c, size_t kb, size_t i) {
  const size_t col = kb * QS8_SPGEMM_KB + i;
  return col < k ? w[c * k + col] : 0;
}

/* The shared packing (layout above); every variant's `pack` is this. */
static inline void qs8_spgemm_pack_blocks(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                          int32_t a_zero_point, void* packed) {
  uint8_t* out = (uint8_t*)packed;
  const size_t kbs = qs8_spgemm_blocks(k);
  for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR) {
    int32_t b[QS8_SPGEMM_NR];
    uint32_t count[QS8_SPGEMM_NR];
    qs8_gemm_fold_bias(n0, QS8_SPGEMM_NR, n, k, w, bias, a_zero_point, b);
    uint8_t* body = out + sizeof(b) + sizeof(count);
    for (size_t j = 0; j < QS8_SPGEMM_NR; j++) {
      const size_t c = n0 + j;
      size_t used = 0;
      for (size_t kb = 0; c < n && kb < kbs; kb++) {
        int any = 0;
        for (size_t i = 0; i < QS8_SPGEMM_KB; i++) any |= qs8_spgemm_weight(w, k, c, kb, i) != 0;
        used += (size_t)any;
      }
      count[j] = (uint32_t)used;
      uint16_t* idx = (uint16_t*)(void*)body;
      int8_t* vals = (int8_t*)(body + used * sizeof(uint16_t));
      size_t at = 0;
      for (size_t kb = 0; c < n && kb < kbs; kb++) {
        int8_t v[QS8_SPGEMM_KB];
        int any = 0;
        for (size_t i = 0; i < QS8_SPGEMM_KB; i++) any |= (v[i] = qs8_spgemm_weight(w, k, c, kb, i)) != 0;
        if (!any) continue;
        idx[at] = (uint16_t)kb;
        memcpy(vals + at * QS8_SPGEMM_KB, v, sizeof(v));
        at++;
      }
      const size_t bytes = qs8_spgemm_channel_bytes(used);
      memset(body + used * (sizeof(uint16_t) + QS8_SPGEMM_KB), 0, bytes - used * (sizeof(uint16_t) + QS8_SPGEMM_KB));
      body += bytes;
    }
    memcpy(out, b, sizeof(b));
    memcpy(out + sizeof(b), count, sizeof(count));
    out = body;
  }
}

/* Walks the packed groups: the header of the group at `g` and where its channel j's indices and weights are. */
typedef struct qs8_spgemm_group {
  int32_t bias[QS8_SPGEMM_NR];
  uint32_t blocks[QS8_SPGEMM_NR];
  const uint16_t* idx[QS8_SPGEMM_NR];
  const int8_t* w[QS8_SPGEMM_NR];
  const uint8_t* next;
} qs8_spgemm_group;

static inline void qs8_spgemm_read_group(const uint8_t* g, qs8_spgemm_group* out) {
  memcpy(out->bias, g, sizeof(out->bias));
  memcpy(out->blocks, g + sizeof(out->bias), sizeof(out->blocks));
  const uint8_t* body = g + sizeof(out->bias) + sizeof(out->blocks);
  for (size_t j = 0; j < QS8_SPGEMM_NR; j++) {
    out->idx[j] = (const uint16_t*)(const void*)body;
    out->w[j] = (const int8_t*)(body + out->blocks[j] * sizeof(uint16_t));
    body += qs8_spgemm_channel_bytes(out->blocks[j]);
  }
  out->next = body;
}

#endif
