/* qs8_spgemm_4x16c4__neondot: block-sparse int8 GEMM for ARMv8.2 with the dot product (Raspberry Pi 5,
 * Cortex-A76); packed layout and block (16 channels x 4 k) in qs8_spgemm.h. Compiled alone with
 * -march=armv8.2-a+dotprod; dispatch runs it only where the CPU reports EL_CPU_DOTPROD.
 *
 * The inner loop of qs8_gemm_4x16__neondot run over the non-zero k-groups of one 16-channel column block only.
 * 4 rows of A are first copied to a [kg][4][4] tile (qs8_spgemm_neon.h), so one 16-byte load holds a k-group
 * of all 4 rows; per non-zero group, against its 4 x 16 bytes of channel-major weights:
 *
 *     SDOT acc[r][q].4s, w[g][q].16b, a[kg].4b[r]     channels 4q..4q+3 x 4 k of row r: 16 MACs
 *
 * 16 SDOTs, 1 + 4 loads and the index per 256 MACs, as the dense kernel's 64 SDOTs take 4 + 16 loads per 16 k.
 * acc[r] holds row r's 16 channels lane by lane, as in the dense kernel, so the epilogue is its own
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

enum { MR = 4, NR = QS8_SPGEMM_NR };

size_t qs8_spgemm_4x16c4__neondot_packed_size(size_t n, size_t k) { return qs8_spgemm_packed_bound(n, k); }

void qs8_spgemm_4x16c4__neondot_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                     void* packed) {
  qs8_spgemm_pack_blocks(QS8_SPGEMM_C4, n, k, w, bias, a_zero_point, packed);
}

/* Channels 4Q..4Q+3 of the group's 4 rows. Spelled out, not a loop over q: GCC -O2 kept a loop's
 * accumulators in memory (a load and a store around every SDOT). */
#define EL_SPDOT_QUAD(Q)                                        \
  do {                                                          \
    const int8x16_t vb = vld1q_s8(wg + 16 * (Q));               \
    acc[0][Q] = vdotq_laneq_s32(acc[0][Q], vb, va, 0);          \
    acc[1][Q] = vdotq_laneq_s32(acc[1][Q], vb, va, 1);          \
    acc[2][Q] = vdotq_laneq_s32(acc[2][Q], vb, va, 2);          \
    acc[3][Q] = vdotq_laneq_s32(acc[3][Q], vb, va, 3);          \
  } while (0)

/* One 4-row tile against every column block. */
static inline __attribute__((always_inline)) void qs8_spgemm_4x16c4__neondot_tile(
    const int left, size_t rows, size_t n, const int8_t* tile, const void* packed, int8_t* c, size_t c_stride,
    const qs8_gemm_params* p) {
  const int16x8_t zp = vdupq_n_s16((int16_t)p->out_zero_point);
  const int8x16_t lo = vdupq_n_s8((int8_t)p->act_min), hi = vdupq_n_s8((int8_t)p->act_max);
  const uint8_t* at = (const uint8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += NR) {
    const qs8_spgemm_block blk = qs8_spgemm_read_block(at);
    at = blk.next;
    int32x4_t acc[MR][4];
    for (int q = 0; q < 4; q++) {
      const int32x4_t b = vld1q_s32(blk.bias + 4 * q);
      for (int r = 0; r < MR; r++) acc[r][q] = b;
    }
    const int8_t* wg = blk.w;
    for (uint32_t g = 0; g < blk.groups; g++, wg += QS8_SPGEMM_GROUP_BYTES) {
#if defined(EL_MCA_MARKERS) /* benchmarks/neon_mca.py: one non-zero k-group */
      __asm__ volatile("# LLVM-MCA-BEGIN qs8_spgemm_4x16c4__neondot" ::: "memory");
#endif
      const int8x16_t va = vld1q_s8(tile + (size_t)blk.idx[g] * (MR * QS8_SPGEMM_KB));
      EL_SPDOT_QUAD(0);
      EL_SPDOT_QUAD(1);
      EL_SPDOT_QUAD(2);
      EL_SPDOT_QUAD(3);
#if defined(EL_MCA_MARKERS)
      __asm__ volatile("# LLVM-MCA-END" ::: "memory");
#endif
    }
    const size_t nc = n - n0 < NR ? n - n0 : NR;
    const el_requant16 rq = el_requant16_load(p, n0, nc);
    /* Every row of the tile, then the stores: indexing acc or out by the run-time `rows` would keep them in
     * memory, not registers (the meter saw the epilogue cost twice the dense one's). */
    int8x16_t out[MR];
    for (int r = 0; r < MR; r++) out[r] = el_requant16_row(left, &rq, acc[r], zp, lo, hi);
    if (rows == MR && nc == NR) {
      for (int r = 0; r < MR; r++) vst1q_s8(c + (size_t)r * c_stride + n0, out[r]);
    } else {
      int8_t buf[MR][NR];
      for (int r = 0; r < MR; r++) vst1q_s8(buf[r], out[r]);
      for (size_t r = 0; r < rows; r++) memcpy(c + r * c_stride + n0, buf[r], nc);
    }
  }
}

/* The common case (no left shift) in a function of its own that starts a page, so its loop never straddles a
 * 4 KiB boundary where the Pi cost meter's qemu cuts blocks (see qs8_gemm_4x16c4__neon_mlal.c). */
static __attribute__((noinline, aligned(4096))) void qs8_spgemm_4x16c4__neondot_right(
    size_t rows, size_t n, const int8_t* tile, const void* packed, int8_t* c, size_t c_stride,
    const qs8_gemm_params* p) {
  qs8_spgemm_4x16c4__neondot_tile(0, rows, n, tile, packed, c, c_stride, p);
}

void qs8_spgemm_4x16c4__neondot(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                                int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n || k > QS8_SPGEMM_NEON_MAX_K) return;
  int8_t tile[MR * QS8_SPGEMM_NEON_MAX_K] __attribute__((aligned(16)));
  const int left = el_any_left_shift(p, n);
  for (size_t row = 0; row < m; row += MR) {
    const size_t rows = m - row < MR ? m - row : MR;
    qs8_spgemm_tile_a(tile, MR, rows, k, a + row * a_stride, a_stride);
    int8_t* c_rows = c + row * c_stride;
    if (left) qs8_spgemm_4x16c4__neondot_tile(1, rows, n, tile, packed, c_rows, c_stride, p);
    else qs8_spgemm_4x16c4__neondot_right(rows, n, tile, packed, c_rows, c_stride, p);
  }
}

#endif
