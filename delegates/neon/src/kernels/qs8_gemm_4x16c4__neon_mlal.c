/* qs8_gemm_4x16c4__neon_mlal: int8 GEMM for ARMv8.0 Advanced SIMD (Raspberry Pi 4, Cortex-A72). No SDOT.
 *
 * Register tile: 4 rows of A x 16 output channels, k consumed 8 at a time in pairs. The weights of one k pair
 * are packed channel-interleaved, [c0k0 c0k1 c1k0 c1k1 ... c7k0 c7k1] per 8 channels, and the A pair is
 * broadcast to match (DUP of one 16-bit lane), so every int32 lane of an accumulator belongs to one output
 * channel: no cross-lane reduction at the end of a tile (the c16 layout of qs8_gemm_2x8__neon_mlal ends each
 * 2x8 tile with 12 ADDPs and two rows of requantization, as much as its k loop when k is 16-32, as in
 * MobileNetV2's expansions; on the Pi 4 meter this kernel takes 42.4 M est. cycles where that one took 51.1 M).
 * Per row, 8 channels and two k pairs (4 k):
 *
 *     SMULL  p.8h, w01.8b, a01.8b     lanes (c, k0) (c, k1) of channels c0..c3
 *     SMLAL  p.8h, w23.8b, a23.8b     + (c, k2) (c, k3): two products per int16 lane
 *     SADALP acc.4s, p.8h             + both halves of each channel's pair: 4 MACs per int32 lane
 *     (SMULL2 / SMLAL2 / SADALP for c4..c7)
 *
 * i.e. 16 MACs per 3 instructions as in the c16 layout, plus one DUP per row and k pair, shared by 16
 * channels. Two products fit one int16 lane as long as weights stay in [-127, 127] (TFLite's int8 weight
 * spec); `pack` flags a weight of -128 and `run` then widens every product on its own (SMULL + SADALP each),
 * exact for any int8.
 *
 * Packed layout: a 16-byte header (int32 flags: bit 0 = some weight is -128), then per block of 16 output
 * channels (n padded to 16 with zero weights and zero bias):
 *     int32 bias'[16]                     bias[n] - a_zero_point * sum_k w[n][k]
 *     per 8 k (k padded to 8 with zeros): 4 k pairs x 16 channels x 2 bytes (128 bytes, read in order)
 * The accumulators start at bias'; requantization is ruy's (qs8_requantize_neon.h semantics: VSHL, SQRDMULH,
 * SRSHL), then narrowing to int16, + zero point (saturating), narrowing to int8, clamp: equal to clamping the
 * int32 sum, since every saturation lands outside [act_min, act_max] on the same side.
 */
/* aarch64 only: on other architectures this file compiles to nothing (a glob of kernels/ is safe). */
#if defined(__aarch64__)

#include <arm_neon.h>
#include <string.h>

#include "qs8_gemm.h"
#include "qs8_gemm_add_neon.h"
#include "qs8_requantize_neon.h"

enum { MR = 4, NR = 16, KB = 8, HEADER = 16 };
enum { FLAG_HAS_MINUS_128 = 1 };

static size_t round_up(size_t x, size_t q) { return (x + q - 1) / q * q; }

size_t qs8_gemm_4x16c4__neon_mlal_packed_size(size_t n, size_t k) {
  return HEADER + round_up(n, NR) / NR * (NR * sizeof(int32_t) + NR * round_up(k, KB));
}

void qs8_gemm_4x16c4__neon_mlal_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                     int32_t a_zero_point, void* packed) {
  const size_t kp = round_up(k, KB);
  int32_t header[HEADER / sizeof(int32_t)] = {0};
  for (size_t i = 0; i < n * k; i++) {
    if (w[i] == INT8_MIN) header[0] |= FLAG_HAS_MINUS_128;
  }
  int8_t* out = (int8_t*)packed;
  memcpy(out, header, sizeof(header));
  out += sizeof(header);
  for (size_t n0 = 0; n0 < n; n0 += NR) {
    int32_t b[NR];
    qs8_gemm_fold_bias(n0, NR, n, k, w, bias, a_zero_point, b);
    memcpy(out, b, sizeof(b));
    out += sizeof(b);
    for (size_t k0 = 0; k0 < kp; k0 += 2) {
      for (size_t j = 0; j < NR; j++) {
        for (size_t kk = k0; kk < k0 + 2; kk++) *out++ = (n0 + j < n && kk < k) ? w[(n0 + j) * k + kk] : 0;
      }
    }
  }
}

/* Channels 0-3 / 4-7 of an 8-channel half (w0 of pair 0, w1 of pair 1), one row: a q accumulator's 4 lanes. */
static inline __attribute__((always_inline)) int32x4_t c4_lo(const int wide, int32x4_t acc, int8x16_t w0,
                                                             int8x16_t w1, int8x16_t d0, int8x16_t d1) {
  int16x8_t prod = vmull_s8(vget_low_s8(w0), vget_low_s8(d0));
  if (wide) { /* a weight of -128: one product per int16 lane */
    acc = vpadalq_s16(acc, prod);
    prod = vmull_s8(vget_low_s8(w1), vget_low_s8(d1));
  } else {
    prod = vmlal_s8(prod, vget_low_s8(w1), vget_low_s8(d1));
  }
  return vpadalq_s16(acc, prod);
}

static inline __attribute__((always_inline)) int32x4_t c4_hi(const int wide, int32x4_t acc, int8x16_t w0,
                                                             int8x16_t w1, int8x16_t d0, int8x16_t d1) {
  int16x8_t prod = vmull_high_s8(w0, d0);
  if (wide) {
    acc = vpadalq_s16(acc, prod);
    prod = vmull_high_s8(w1, d1);
  } else {
    prod = vmlal_high_s8(prod, w1, d1);
  }
  return vpadalq_s16(acc, prod);
}

/* 8 k of `rows` rows: a[r] holds the rows' 8 bytes; w the block's 128 packed bytes. Row by row within each
 * two k pairs, so only the 16 accumulators, 4 weight vectors and a few temporaries are live. `half`: the
 * block's real channels are the first 8 (n = 24, 1000 ...): the other 8 are neither multiplied nor loaded. */
static inline __attribute__((always_inline)) void c4_step(const int rows, const int wide, const int half,
                                                          int32x4_t acc[MR][4], const int8x8_t a[MR],
                                                          const int8_t* w) {
  for (int pair = 0; pair < 4; pair += 2) {
    const int8x16_t w0lo = vld1q_s8(w + 32 * pair), w1lo = vld1q_s8(w + 32 * pair + 32);
    const int8x16_t w0hi = half ? w0lo : vld1q_s8(w + 32 * pair + 16);
    const int8x16_t w1hi = half ? w1lo : vld1q_s8(w + 32 * pair + 48);
    for (int r = 0; r < rows; r++) {
      const int16x4_t a16 = vreinterpret_s16_s8(a[r]);
      const int8x16_t d0 = vreinterpretq_s8_s16(pair == 0 ? vdupq_lane_s16(a16, 0) : vdupq_lane_s16(a16, 2));
      const int8x16_t d1 = vreinterpretq_s8_s16(pair == 0 ? vdupq_lane_s16(a16, 1) : vdupq_lane_s16(a16, 3));
      acc[r][0] = c4_lo(wide, acc[r][0], w0lo, w1lo, d0, d1);
      acc[r][1] = c4_hi(wide, acc[r][1], w0lo, w1lo, d0, d1);
      if (!half) {
        acc[r][2] = c4_lo(wide, acc[r][2], w0hi, w1hi, d0, d1);
        acc[r][3] = c4_hi(wide, acc[r][3], w0hi, w1hi, d0, d1);
      }
    }
  }
}

/* The k loop of one block (accumulators already at bias'); the last k % 8 from the zero-padded rows `tail`. */
static inline __attribute__((always_inline)) void c4_kloop(const int rows, const int wide, const int half,
                                                           int32x4_t acc[MR][4], const int8_t* a, size_t a_stride,
                                                           const int8_t* w, size_t k_main, size_t k,
                                                           int8_t tail[MR][KB]) {
  const int8_t* pa = a;
  for (size_t kk = 0; kk < k_main; kk += KB, pa += KB, w += NR * KB) {
#if defined(EL_MCA_MARKERS) /* benchmarks/neon_mca.py: the 4-row loop */
    if (rows == MR && !wide && !half) __asm__ volatile("# LLVM-MCA-BEGIN qs8_gemm_4x16c4__neon_mlal" ::: "memory");
#endif
    int8x8_t va[MR];
    for (int r = 0; r < rows; r++) va[r] = vld1_s8(pa + (size_t)r * a_stride);
    c4_step(rows, wide, half, acc, va, w);
#if defined(EL_MCA_MARKERS)
    if (rows == MR && !wide && !half) __asm__ volatile("# LLVM-MCA-END" ::: "memory");
#endif
  }
  if (k_main != k) {
    int8x8_t va[MR];
    for (int r = 0; r < rows; r++) va[r] = vld1_s8(tail[r]);
    c4_step(rows, wide, half, acc, va, w);
  }
}

static inline __attribute__((always_inline)) void c4_rows(const int rows, const int wide, const int left,
                                                          size_t n, size_t k,
                                                          const int8_t* a, size_t a_stride, const void* packed,
                                                          int8_t* c, size_t c_stride, const qs8_gemm_params* p,
                                                          const int8_t* res, const el_gemm_add_neon* aq) {
  const size_t kp = round_up(k, KB), k_main = k / KB * KB;
  const size_t block_bytes = NR * sizeof(int32_t) + NR * kp;
  int8_t tail[MR][KB];
  if (k_main != k) {
    memset(tail, 0, sizeof(tail));
    for (int r = 0; r < rows; r++) memcpy(tail[r], a + (size_t)r * a_stride + k_main, k - k_main);
  }
  const int16x8_t out_zp = vdupq_n_s16((int16_t)p->out_zero_point);
  const int8x16_t lo = vdupq_n_s8((int8_t)p->act_min), hi = vdupq_n_s8((int8_t)p->act_max);
  const int8_t* blk = (const int8_t*)packed + HEADER;
  for (size_t n0 = 0; n0 < n; n0 += NR, blk += block_bytes) {
    int32x4_t acc[MR][4];
    const int32_t* bias = (const int32_t*)(const void*)blk;
    for (int r = 0; r < rows; r++)
      for (int q = 0; q < 4; q++) acc[r][q] = vld1q_s32(bias + 4 * q);
    const int8_t* w = blk + NR * sizeof(int32_t);
    if (n - n0 <= NR / 2) {
      c4_kloop(rows, wide, 1, acc, a, a_stride, w, k_main, k, tail);
    } else {
      c4_kloop(rows, wide, 0, acc, a, a_stride, w, k_main, k, tail);
    }

    /* ruy's requantization of 16 channels, the shifts split once per block */
    const size_t nc = n - n0 < NR ? n - n0 : NR;
    const el_requant16 q = el_requant16_load(p, n0, nc);
    int8x16_t out[MR];
    for (int r = 0; r < rows; r++) out[r] = el_requant16_row(left, &q, acc[r], out_zp, lo, hi);
    if (res != NULL) el_gemm_add_neon_rows(aq, p->residual_stride, rows, res + n0, nc, out); /* fused ADD */
    /* one branch per block, not per row: the rows' requantization stays one straight run of code */
    if (nc == NR) {
      for (int r = 0; r < rows; r++) vst1q_s8(c + (size_t)r * c_stride + n0, out[r]);
    } else {
      for (int r = 0; r < rows; r++) {
        int8_t buf[NR];
        vst1q_s8(buf, out[r]);
        memcpy(c + (size_t)r * c_stride + n0, buf, nc);
      }
    }
  }
}

/* The common case (4 rows, weights in [-127, 127], no left shift) in a function of its own that starts a page:
 * its k loop then never straddles a 4 KiB boundary. On a core that costs nothing, but the Pi cost meter's qemu
 * cuts translation blocks at page boundaries and llvm-mca schedules each block alone, so where unrelated code
 * pushed the loop across one, the same instructions were estimated 15% dearer (43.1 M vs 49.9 M cycles). */
static __attribute__((noinline, aligned(4096))) void qs8_gemm_4x16c4__neon_mlal_4rows(
    size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed, int8_t* c, size_t c_stride,
    const qs8_gemm_params* p) {
  c4_rows(MR, 0, 0, n, k, a, a_stride, packed, c, c_stride, p, NULL, NULL); /* (no fused-ADD test per block) */
}

/* The same with the fused residual ADD (qs8_gemm_add_neon.h) in its epilogue. */
static __attribute__((noinline, aligned(4096))) void qs8_gemm_4x16c4__neon_mlal_4rows_add(
    size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed, int8_t* c, size_t c_stride,
    const qs8_gemm_params* p, const int8_t* res, const el_gemm_add_neon* aq) {
  c4_rows(MR, 0, 0, n, k, a, a_stride, packed, c, c_stride, p, res, aq);
}

static inline __attribute__((always_inline)) void c4_all(const int wide, const int left, size_t m, size_t n,
                                                         size_t k, const int8_t* a, size_t a_stride,
                                                         const void* packed, int8_t* c, size_t c_stride,
                                                         const qs8_gemm_params* p, const el_gemm_add_neon* aq) {
  size_t m0 = 0;
  for (; m0 + MR <= m; m0 += MR) {
    const int8_t* res = p->residual != NULL ? p->residual + m0 * p->residual_stride : NULL;
    if (!wide && !left && res != NULL)
      qs8_gemm_4x16c4__neon_mlal_4rows_add(n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride,
                                           p, res, aq);
    else if (!wide && !left)
      qs8_gemm_4x16c4__neon_mlal_4rows(n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride, p);
    else
      c4_rows(MR, wide, left, n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride, p, res, aq);
  }
  const size_t rest = m - m0;
  const int8_t* ar = a + m0 * a_stride;
  int8_t* cr = c + m0 * c_stride;
  const int8_t* rr = p->residual != NULL ? p->residual + m0 * p->residual_stride : NULL;
  if (rest == 3) c4_rows(3, wide, left, n, k, ar, a_stride, packed, cr, c_stride, p, rr, aq);
  else if (rest == 2) c4_rows(2, wide, left, n, k, ar, a_stride, packed, cr, c_stride, p, rr, aq);
  else if (rest == 1) c4_rows(1, wide, left, n, k, ar, a_stride, packed, cr, c_stride, p, rr, aq);
}

void qs8_gemm_4x16c4__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n) return;
  int32_t flags;
  memcpy(&flags, packed, sizeof(flags));
  const int left = el_any_left_shift(p, n); /* a multiplier above 1 anywhere: every block shifts left first */
  el_gemm_add_neon add;
  const el_gemm_add_neon* aq = p->add != NULL ? (add = el_gemm_add_neon_init(p->add), &add) : NULL;
  if (flags & FLAG_HAS_MINUS_128) {
    if (left) c4_all(1, 1, m, n, k, a, a_stride, packed, c, c_stride, p, aq);
    else c4_all(1, 0, m, n, k, a, a_stride, packed, c, c_stride, p, aq);
  } else {
    if (left) c4_all(0, 1, m, n, k, a, a_stride, packed, c, c_stride, p, aq);
    else c4_all(0, 0, m, n, k, a, a_stride, packed, c, c_stride, p, aq);
  }
}

#endif /* __aarch64__ */
