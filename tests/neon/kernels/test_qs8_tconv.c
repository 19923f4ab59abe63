/* Standalone test of every int8 transposed-convolution microkernel compiled for this architecture
 * (qs8_tconv_ukernels).
 *
 * Oracle: TFLite's own formulation, not the kernels' — a plain scatter loop (every input pixel through every tap
 * into an int32 image, the bias added after, as its GEMM + col2im + BiasAdd do) + the shared requantize
 * functions with the builtin Quantize()'s per-channel rule (el_requantize_gemm on whole groups of 8 output
 * channels, el_requantize on the rest), zero tolerance; the kernels gather per output pixel instead. Shapes sit
 * on the kernels' 16-channel blocks and the builtin's 8-channel groups (output channels 1, 7, 8, 9, 16, 17, 33;
 * input channels 1, 3, 8, 17), filters 1x1 (smaller than the stride: output pixels no tap reaches) to 5x3,
 * strides 1-3, padding 0 to k-1 with an odd extra row/column at the end (TFLite's SAME offset), zero points at
 * the extremes, a clamp and none, multipliers with right and left shifts, weights random, at +-127 against
 * inputs at -128/127, and with -128. The input image, the packed constants and each output row end flush
 * against a PROT_NONE page (an over-read or over-write faults).
 *
 * Output (parsed by tests/neon/test_tconv_kernels.py):
 *   RUN <name> cases <c> outputs <o> mismatches <x>
 *   MISMATCH <name> ... [oy][ox][c] expected E got G acc A
 *   RESULT PASS | RESULT FAIL
 * Option: --corrupt  flips one weight of the kernel's copy per case (the test must then FAIL: proves it can).
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qs8_tconv.h"
#include "requantize.h"

#include "tester_rng.h"

/* `size` bytes ending exactly where a PROT_NONE page begins */
static uint8_t* guarded(size_t size, uint8_t** base, size_t* map_size) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t pages = (size + page - 1) / page;
  *map_size = (pages + 1) * page;
  *base = mmap(NULL, *map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (*base == MAP_FAILED || mprotect(*base + pages * page, page, PROT_NONE) != 0) {
    perror("mmap");
    exit(2);
  }
  return *base + pages * page - size;
}

typedef struct tc_case {
  int H, W, C, OC, kh, kw, stride_h, stride_w, pad_top, pad_left, extra; /* extra: odd padding at the end */
  int32_t in_zp, out_zp, act_min, act_max;
  int values; /* 0 random; 1 weights +-127 and inputs -128/127; 2 random weights, some -128 */
} tc_case;

static int printed = 0;

static size_t run_case(const qs8_tconv_ukernel* uk, const tc_case* tc, int corrupt, size_t* outputs) {
  const int OH = (tc->H - 1) * tc->stride_h + tc->kh - 2 * tc->pad_top - tc->extra;
  const int OW = (tc->W - 1) * tc->stride_w + tc->kw - 2 * tc->pad_left - tc->extra;
  if (OH < 1 || OW < 1) return 0;
  const int C = tc->C, OC = tc->OC;
  const size_t xn = (size_t)tc->H * tc->W * C, wn = (size_t)OC * tc->kh * tc->kw * C, rown = (size_t)OW * OC;
  uint8_t *xbase, *ybase, *pbase;
  size_t xmap, ymap, pmap;
  int8_t* x = (int8_t*)guarded(xn, &xbase, &xmap);
  int8_t* y = (int8_t*)guarded(rown, &ybase, &ymap);
  int8_t* w = malloc(wn);
  int8_t* wk = malloc(wn); /* the kernel's copy (corrupted on request) */
  int32_t* bias = malloc(sizeof(int32_t) * (size_t)OC);
  int32_t* mult = malloc(sizeof(int32_t) * (size_t)OC);
  int32_t* shift = malloc(sizeof(int32_t) * (size_t)OC);
  int32_t* acc = calloc((size_t)OH * OW * OC, sizeof(int32_t));
  for (size_t i = 0; i < xn; i++) x[i] = (int8_t)(tc->values == 1 ? (rnd() & 1 ? 127 : -128) : rnd_range(-128, 127));
  for (size_t i = 0; i < wn; i++)
    w[i] = (int8_t)(tc->values == 1 ? (rnd() & 1 ? 127 : -127) : rnd_range(tc->values == 2 ? -128 : -127, 127));
  if (tc->values == 2) w[rnd() % wn] = INT8_MIN;
  for (int c = 0; c < OC; c++) {
    bias[c] = rnd_range(-20000, 20000);
    const double real = (c % 5 == 4 ? 2.5 : 0.0005) * (1.0 + (double)(rnd() % 1000) / 1000.0); /* some left shifts */
    el_quantize_multiplier(real, &mult[c], &shift[c]);
  }
  memcpy(wk, w, wn);
  if (corrupt) wk[rnd() % wn] ^= 0x11;
  const qs8_tconv_pack_params pp = {C, OC, tc->kh, tc->kw, tc->in_zp, wk, bias, mult, shift, OC / 8 * 8};
  void* packed = guarded(uk->packed_size(&pp), &pbase, &pmap);
  uk->pack(&pp, packed);
  const qs8_tconv_params p = {tc->H, tc->W, C, OW, OC, tc->kh, tc->kw, tc->stride_h, tc->stride_w, tc->pad_top,
                              tc->pad_left, tc->out_zp, tc->act_min, tc->act_max, packed};
  /* the oracle: scatter, as TFLite's col2im does */
  for (int iy = 0; iy < tc->H; iy++)
    for (int ix = 0; ix < tc->W; ix++)
      for (int ky = 0; ky < tc->kh; ky++)
        for (int kx = 0; kx < tc->kw; kx++) {
          const int oy = iy * tc->stride_h - tc->pad_top + ky, ox = ix * tc->stride_w - tc->pad_left + kx;
          if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
          for (int c = 0; c < OC; c++)
            for (int ic = 0; ic < C; ic++)
              acc[((size_t)oy * OW + ox) * OC + c] +=
                  ((int32_t)x[((size_t)iy * tc->W + ix) * C + ic] - tc->in_zp) *
                  w[(((size_t)c * tc->kh + ky) * tc->kw + kx) * C + ic];
        }
  const int vec_end = OC / 8 * 8;
  size_t bad = 0;
  for (int oy = 0; oy < OH; oy++) {
    uk->row(&p, x, oy, y);
    for (int ox = 0; ox < OW; ox++) {
      for (int c = 0; c < OC; c++) {
        const int32_t a = acc[((size_t)oy * OW + ox) * OC + c] + bias[c];
        const int32_t q = c < vec_end ? el_requantize_gemm(a, mult[c], shift[c]) : el_requantize(a, mult[c], shift[c]);
        const int32_t want = el_clamp(q + tc->out_zp, tc->act_min, tc->act_max);
        const int32_t got = y[(size_t)ox * OC + c];
        (*outputs)++;
        if (got != want) {
          bad++;
          if (printed++ < 10)
            printf("MISMATCH %s H %d W %d C %d OC %d k %dx%d stride %dx%d pad %d,%d+%d [%d][%d][%d] "
                   "expected %d got %d acc %d\n", uk->name, tc->H, tc->W, C, OC, tc->kh, tc->kw, tc->stride_h,
                   tc->stride_w, tc->pad_top, tc->pad_left, tc->extra, oy, ox, c, want, got, a);
        }
      }
    }
  }
  munmap(xbase, xmap);
  munmap(ybase, ymap);
  munmap(pbase, pmap);
  free(w);
  free(wk);
  free(bias);
  free(mult);
  free(shift);
  free(acc);
  return bad;
}

int main(int argc, char** argv) {
  const int corrupt = argc > 1 && strcmp(argv[1], "--corrupt") == 0;
  static const int out_channels[] = {1, 7, 8, 9, 16, 17, 33};
  static const int in_channels[] = {1, 3, 8, 17};
  static const int filters[][2] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 3}};
  static const int32_t zps[][2] = {{0, 0}, {-128, 127}, {127, -128}, {5, -3}};
  int failed = 0;
  for (const qs8_tconv_ukernel* uk = qs8_tconv_ukernels; uk->name != NULL; uk++) {
    size_t cases = 0, outputs = 0, bad = 0;
    for (size_t oi = 0; oi < sizeof out_channels / sizeof out_channels[0]; oi++)
      for (size_t ii = 0; ii < sizeof in_channels / sizeof in_channels[0]; ii++)
        for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++)
          for (int v = 0; v < 6; v++) {
            const int kh = filters[f][0], kw = filters[f][1];
            const int stride = 1 + v % 3;
            const int pad_top = v < 2 ? 0 : (kh - 1) / 2, pad_left = v < 2 ? 0 : (kw - 1) / 2;
            tc_case tc = {3 + v % 4, 4 + (v & 1) * 5, in_channels[ii], out_channels[oi], kh, kw, stride,
                          v == 4 ? 1 : stride, pad_top, pad_left, v >= 2 && (kh > 1 || kw > 1) ? (v & 1) : 0,
                          zps[v % 4][0], zps[v % 4][1], -128, 127, v == 3 ? 1 : (v == 5 ? 2 : 0)};
            if (v == 2) tc.act_min = tc.out_zp, tc.act_max = tc.out_zp + 100 > 127 ? 127 : tc.out_zp + 100;
            const size_t before = outputs;
            bad += run_case(uk, &tc, corrupt, &outputs);
            cases += outputs > before;
          }
    printf("RUN %s cases %zu outputs %zu mismatches %zu\n", uk->name, cases, outputs, bad);
    failed |= bad != 0 || outputs == 0;
  }
  printf("RESULT %s\n", failed ? "FAIL" : "PASS");
  return failed ? 1 : 0;
}
