/* qs8_spgemm_4x16c4__neondot: block-sparse int8 GEMM for ARMv8.2 with the dot product (Raspberry Pi 5,
 * Cortex-A76); packed layout and block (16 channels x 4 k) in qs8_spgemm.h. Compiled alone with
 * -march=armv8.2-a+dotprod; dispatch runs it only where the CPU reports EL_CPU_DOTPROD.
 *
 * Register tile: 4 rows x 16 channels, 16 int32x4 accumulators; per non-zero k-group, against its 4 x 16 bytes
 * of channel-major weights and one 16-byte load of the group's 4 bytes of each of the 4 rows:
 *
 *     SDOT acc[r][q].4s, w[g][q].16b, a[kg].4b[r]     channels 4q..4q+3 x 4 k of row r: 16 MACs
 *
 * Loop order: a chunk of rows (as many 4-row tiles as fit a 16 KiB copy of A laid out [tile][kg][4][4], see
 * qs8_spgemm_neon.h), then each 16-channel column block, then every tile of the chunk. A column block's
 * per-block work (reading its header, the requantization constants of its 16 channels, the clamp vectors) is
 * done once per chunk, not once per 4-row tile: on MobileNetV2's early layers (k = 16..32, one or two non-zero
 * groups per block at 75%) that work cost as much as the SDOTs the sparsity saved, and the meter put the
 * earlier tile-outer order at 0.89x the dense kernel there.
 * Group loop: unrolled four times, each group 16 SDOTs, 4 weight loads, its index (LDRH), one shifted ADD and
 * the A load: 24 micro-ops in the meter's model, which issues 3 a cycle and 2 SDOTs a cycle, so the loop runs
 * at the SDOT bound: 8.05 est. cycles a group (unrolled twice with register-offset A loads: 8.8; four times
 * with them: 8.5).
 * acc[r] holds row r's 16 channels lane by lane, as in qs8_gemm_4x16__neondot, so the epilogue is its own
 * (el_requant16_row). Rows past m (a last partial tile) are computed on zero rows and not stored.
 */
#if defined(__aarch64__)

#include <arm_neon.h>

#include "qs8_requantize_neon.h"
#include "qs8_spgemm.h"
#include "qs8_spgemm_neon.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "qs8_spgemm_4x16c4__neondot.c must be compiled with -march=armv8.2-a+dotprod"
#endif

enum { MR = 4, NR = QS8_SPGEMM_NR, CHUNK_BYTES = MR * QS8_SPGEMM_NEON_MAX_K };

size_t qs8_spgemm_4x16c4__neondot_packed_size(size_t n, size_t k) { return qs8_spgemm_packed_bound(n, k); }

void qs8_spgemm_4x16c4__neondot_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                     void* packed) {
  qs8_spgemm_pack_blocks(QS8_SPGEMM_C4, n, k, w, bias, a_zero_point, packed);
}

/* Channels 4Q..4Q+3 of one group (weights WG, A vector VA) for the tile's 4 rows. Spelled out, not a loop over
 * q: GCC -O2 kept a loop's accumulators in memory (a load and a store around every SDOT). */
#define EL_SPDOT_QUAD(Q, WG, VA)                                  \
  do {                                                            \
    const int8x16_t vb = vld1q_s8((WG) + 16 * (Q));               \
    acc[0][Q] = vdotq_laneq_s32(acc[0][Q], vb, VA, 0);            \
    acc[1][Q] = vdotq_laneq_s32(acc[1][Q], vb, VA, 1);            \
    acc[2][Q] = vdotq_laneq_s32(acc[2][Q], vb, VA, 2);            \
    acc[3][Q] = vdotq_laneq_s32(acc[3][Q], vb, VA, 3);            \
  } while (0)

/* The group's A vector: its address is built with one ADD (shifted) and loaded from a plain base register. The
 * empty asm keeps GCC from folding the two into a register-offset load, which costs 2 micro-ops (as does the
 * LSL GCC then needs before it) where ADD + LDR cost 2 together. */
#define EL_SPDOT_GROUP(WG, KG)                                                           \
  do {                                                                                   \
    const int8_t* a_kg = a_tile + (size_t)(KG) * (MR * QS8_SPGEMM_KB);                   \
    __asm__("" : "+r"(a_kg));                                                            \
    const int8x16_t va = vld1q_s8(a_kg);                                                 \
    EL_SPDOT_QUAD(0, WG, va);                                                            \
    EL_SPDOT_QUAD(1, WG, va);                                                            \
    EL_SPDOT_QUAD(2, WG, va);                                                            \
    EL_SPDOT_QUAD(3, WG, va);                                                            \
  } while (0)

/* Rows [0, rows) of a chunk (tile t at chunk + t * slab) against every column block. */
static inline __attribute__((always_inline)) void qs8_spgemm_4x16c4__neondot_chunk(
    const int left, size_t rows, size_t n, const int8_t* chunk, size_t slab, const void* packed, int8_t* c,
    size_t c_stride, const qs8_gemm_params* p) {
  const int16x8_t zp = vdupq_n_s16((int16_t)p->out_zero_point);
  const int8x16_t lo = vdupq_n_s8((int8_t)p->act_min), hi = vdupq_n_s8((int8_t)p->act_max);
  const uint8_t* at = (const uint8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += NR) {
    const qs8_spgemm_block blk = qs8_spgemm_read_block(at);
    at = blk.next;
    const size_t nc = n - n0 < NR ? n - n0 : NR;
    const el_requant16 rq = el_requant16_load(p, n0, nc);
    const int32x4_t b0 = vld1q_s32(blk.bias), b1 = vld1q_s32(blk.bias + 4);
    const int32x4_t b2 = vld1q_s32(blk.bias + 8), b3 = vld1q_s32(blk.bias + 12);
    const int8_t* a_tile = chunk;
    int8_t* c_tile = c + n0;
    for (size_t row = 0; row < rows; row += MR, a_tile += slab, c_tile += MR * c_stride) {
      int32x4_t acc[MR][4];
      for (int r = 0; r < MR; r++) acc[r][0] = b0, acc[r][1] = b1, acc[r][2] = b2, acc[r][3] = b3;
      const uint16_t* idx = blk.idx;
      const int8_t* wg = blk.w;
      uint32_t g = blk.groups;
      for (; g >= 4; g -= 4, idx += 4, wg += 4 * QS8_SPGEMM_GROUP_BYTES) {
#if defined(EL_MCA_MARKERS) /* benchmarks/neon_mca.py: four non-zero k-groups */
        __asm__ volatile("# LLVM-MCA-BEGIN qs8_spgemm_4x16c4__neondot" ::: "memory");
#endif
        EL_SPDOT_GROUP(wg, idx[0]);
        EL_SPDOT_GROUP(wg + QS8_SPGEMM_GROUP_BYTES, idx[1]);
        EL_SPDOT_GROUP(wg + 2 * QS8_SPGEMM_GROUP_BYTES, idx[2]);
        EL_SPDOT_GROUP(wg + 3 * QS8_SPGEMM_GROUP_BYTES, idx[3]);
#if defined(EL_MCA_MARKERS)
        __asm__ volatile("# LLVM-MCA-END" ::: "memory");
#endif
      }
      for (; g != 0; g--, idx++, wg += QS8_SPGEMM_GROUP_BYTES) EL_SPDOT_GROUP(wg, idx[0]);
      /* Every row of the tile, then the stores: indexing acc or out by a run-time row count would keep them in
       * memory, not registers. */
      int8x16_t out[MR];
      for (int r = 0; r < MR; r++) out[r] = el_requant16_row(left, &rq, acc[r], zp, lo, hi);
      if (rows - row >= MR && nc == NR) {
        for (int r = 0; r < MR; r++) vst1q_s8(c_tile + (size_t)r * c_stride, out[r]);
      } else {
        const size_t live = rows - row < MR ? rows - row : MR;
        int8_t buf[MR][NR];
        for (int r = 0; r < MR; r++) vst1q_s8(buf[r], out[r]);
        for (size_t r = 0; r < live; r++) memcpy(c_tile + r * c_stride, buf[r], nc);
      }
    }
  }
}

/* The common case (no left shift) in a function of its own that starts a page, so its loops never straddle a
 * 4 KiB boundary where the Pi cost meter's qemu cuts blocks (see qs8_gemm_4x16c4__neon_mlal.c). */
static __attribute__((noinline, aligned(4096))) void qs8_spgemm_4x16c4__neondot_right(
    size_t rows, size_t n, const int8_t* chunk, size_t slab, const void* packed, int8_t* c, size_t c_stride,
    const qs8_gemm_params* p) {
  qs8_spgemm_4x16c4__neondot_chunk(0, rows, n, chunk, slab, packed, c, c_stride, p);
}

void qs8_spgemm_4x16c4__neondot(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                                int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n || k > QS8_SPGEMM_NEON_MAX_K) return;
  int8_t chunk[CHUNK_BYTES] __attribute__((aligned(16)));
  const size_t slab = qs8_spgemm_groups(k) * MR * QS8_SPGEMM_KB; /* bytes of one 4-row tile of A */
  const size_t chunk_rows = CHUNK_BYTES / slab * MR;            /* >= MR: k <= QS8_SPGEMM_NEON_MAX_K */
  const int left = el_any_left_shift(p, n);
  for (size_t row = 0; row < m; row += chunk_rows) {
    const size_t rows = m - row < chunk_rows ? m - row : chunk_rows;
    for (size_t t = 0; t < rows; t += MR)
      qs8_spgemm_tile_a(chunk + t / MR * slab, rows - t < MR ? rows - t : MR, k, a + (row + t) * a_stride,
                        a_stride);
    int8_t* c_rows = c + row * c_stride;
    if (left) qs8_spgemm_4x16c4__neondot_chunk(1, rows, n, chunk, slab, packed, c_rows, c_stride, p);
    else qs8_spgemm_4x16c4__neondot_right(rows, n, chunk, slab, packed, c_rows, c_stride, p);
  }
}

#endif
