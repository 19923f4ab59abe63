/* qs8_spgemm_4x16c4__neon_mlal: block-sparse int8 GEMM for ARMv8.0 NEON (Raspberry Pi 4, Cortex-A72); packed
 * layout and block (16 channels x 4 k) in qs8_spgemm.h.
 *
 * The inner loop of qs8_gemm_4x16c4__neon_mlal run over the non-zero k-groups of one 16-channel column block
 * only. 4 rows of A are first copied to a [kg][4][4] tile (qs8_spgemm_neon.h), so one 16-byte load holds a
 * k-group of all 4 rows; its 16-bit lanes 2r, 2r+1 are row r's (k0, k1) and (k2, k3) pairs, broadcast by DUP
 * against the group's weights packed as the dense kernel packs a k pair (16 channels x (k, k+1) interleaved):
 *
 *     SMULL  p.8h, w01.8b, a_r(k0 k1)     lanes (c, k0) (c, k1) of channels c0..c3
 *     SMLAL  p.8h, w23.8b, a_r(k2 k3)     + (c, k2) (c, k3): two products per int16 lane
 *     SADALP acc[r][0].4s, p.8h           4 MACs per int32 lane; likewise SMULL2.. for c4..c7, and c8..c15
 *
 * 12 multiply-accumulates, 2 DUPs per row, 1 + 4 loads and the index per 256 MACs, as in the dense kernel.
 * Two products fit one int16 lane only for weights in [-127, 127] (TFLite's int8 weight range): the kernel
 * choice keeps a layer holding -128 dense (no_minus128). acc[r] holds row r's 16 channels lane by lane, so the
 * epilogue is the dense one (el_requant16_row). Rows past m are computed on zero rows and not stored.
 */
#if defined(__aarch64__)

#include <arm_neon.h>

#include "qs8_requantize_neon.h"
#include "qs8_spgemm.h"
#include "qs8_spgemm_neon.h"

enum { MR = 4, NR = QS8_SPGEMM_NR };

size_t qs8_spgemm_4x16c4__neon_mlal_packed_size(size_t n, size_t k) { return qs8_spgemm_packed_bound(n, k); }

void qs8_spgemm_4x16c4__neon_mlal_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                       int32_t a_zero_point, void* packed) {
  qs8_spgemm_pack_blocks(QS8_SPGEMM_K2, n, k, w, bias, a_zero_point, packed);
}

static inline __attribute__((always_inline)) int32x4_t mac_lo(int32x4_t acc, int8x16_t w0, int8x16_t w1,
                                                              int8x16_t d0, int8x16_t d1) {
  return vpadalq_s16(acc, vmlal_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(d0)), vget_low_s8(w1), vget_low_s8(d1)));
}

static inline __attribute__((always_inline)) int32x4_t mac_hi(int32x4_t acc, int8x16_t w0, int8x16_t w1,
                                                              int8x16_t d0, int8x16_t d1) {
  return vpadalq_s16(acc, vmlal_high_s8(vmull_high_s8(w0, d0), w1, d1));
}

#define EL_SPGEMM_ROW(R)                                                      \
  do {                                                                        \
    const int8x16_t d0 = vreinterpretq_s8_s16(vdupq_laneq_s16(a16, 2 * (R))); \
    const int8x16_t d1 = vreinterpretq_s8_s16(vdupq_laneq_s16(a16, 2 * (R) + 1)); \
    acc[R][0] = mac_lo(acc[R][0], w0lo, w1lo, d0, d1);                        \
    acc[R][1] = mac_hi(acc[R][1], w0lo, w1lo, d0, d1);                        \
    acc[R][2] = mac_lo(acc[R][2], w0hi, w1hi, d0, d1);                        \
    acc[R][3] = mac_hi(acc[R][3], w0hi, w1hi, d0, d1);                        \
  } while (0)

/* One 4-row tile against every column block. */
static inline __attribute__((always_inline)) void qs8_spgemm_4x16c4__neon_mlal_tile(
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
      __asm__ volatile("# LLVM-MCA-BEGIN qs8_spgemm_4x16c4__neon_mlal" ::: "memory");
#endif
      const int16x8_t a16 = vreinterpretq_s16_s8(vld1q_s8(tile + (size_t)blk.idx[g] * (MR * QS8_SPGEMM_KB)));
      const int8x16_t w0lo = vld1q_s8(wg), w0hi = vld1q_s8(wg + 16);
      const int8x16_t w1lo = vld1q_s8(wg + 32), w1hi = vld1q_s8(wg + 48);
      EL_SPGEMM_ROW(0);
      EL_SPGEMM_ROW(1);
      EL_SPGEMM_ROW(2);
      EL_SPGEMM_ROW(3);
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
static __attribute__((noinline, aligned(4096))) void qs8_spgemm_4x16c4__neon_mlal_right(
    size_t rows, size_t n, const int8_t* tile, const void* packed, int8_t* c, size_t c_stride,
    const qs8_gemm_params* p) {
  qs8_spgemm_4x16c4__neon_mlal_tile(0, rows, n, tile, packed, c, c_stride, p);
}

void qs8_spgemm_4x16c4__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                  const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n || k > QS8_SPGEMM_NEON_MAX_K) return;
  int8_t tile[MR * QS8_SPGEMM_NEON_MAX_K] __attribute__((aligned(16)));
  const int left = el_any_left_shift(p, n);
  for (size_t row = 0; row < m; row += MR) {
    const size_t rows = m - row < MR ? m - row : MR;
    qs8_spgemm_tile_a(tile, rows, k, a + row * a_stride, a_stride);
    int8_t* c_rows = c + row * c_stride;
    if (left) qs8_spgemm_4x16c4__neon_mlal_tile(1, rows, n, tile, packed, c_rows, c_stride, p);
    else qs8_spgemm_4x16c4__neon_mlal_right(rows, n, tile, packed, c_rows, c_stride, p);
  }
}

#endif
