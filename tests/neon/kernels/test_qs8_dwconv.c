/* Standalone test of every int8 depthwise microkernel compiled for this architecture (qs8_dwconv_ukernels).
 *
 * Oracle: a plain integer loop + the shared requantize functions of requantize.h with LiteRT's per-channel
 * rule (el_requantize_gemm on whole groups of 8 output channels, el_requantize on the rest), zero tolerance.
 * Shapes sit on the kernels' 16-channel groups and LiteRT's 8-channel groups (1, 3, 7, 8, 9, 15, 16, 17, 24,
 * 31, 33, 48 channels), depth multipliers 1-3, filters 1x1 to 7x7 and 3x1, strides 1-2, dilations, padding
 * (rows and columns both, so pixels at the edges and in a long interior), zero points at the extremes, RELU6
 * and no clamp, multipliers with right and left shifts; weights random, at +-127 against inputs at -128/127
 * (two products per int16 lane at their largest), and with -128 (only variants without the [-127, 127]
 * precondition may take those); every case but the long rows again with a grouped CONV_2D's rounding (double
 * rounding on every channel). Each variant runs the cases qs8_dwconv_supports() gives it. The input image,
 * the packed constants and each output row end flush against a PROT_NONE page (an over-read or over-write
 * faults).
 *
 * Output (parsed by tests/neon/test_dwconv_kernels.py):
 *   RUN <name> cases <c> outputs <o> mismatches <x>
 *   CHOOSE <problem> -> <name>          the first variant (best first) the CPU runs that supports a typical node
 *   SKIP <name> needs 0x<hex> cpu 0x<hex>   a variant this CPU lacks the features of
 *   MISMATCH <name> ... [ox][c] expected E got G acc A
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

#include "qs8_dwconv.h"
#include "qs8_gemm.h" /* el_cpu_features */
#include "requantize.h"

#define TESTER_SEED 0x2545F4914F6CDD1Dull
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

typedef struct dw_case {
  int H, W, C, mult, kh, kw, stride, dilation, pad;
  int32_t in_zp, out_zp, act_min, act_max;
  int values; /* 0 random; 1 weights +-127 and inputs -128/127; 2 random weights, some -128 */
  int double_rounding; /* a grouped CONV_2D's rule: double rounding on every channel */
} dw_case;

static int printed = 0;

static size_t run_case(const qs8_dwconv_ukernel* uk, const dw_case* tc, int corrupt, size_t* outputs, int* ran) {
  const int OC = tc->C * tc->mult;
  const int eff_h = (tc->kh - 1) * tc->dilation + 1, eff_w = (tc->kw - 1) * tc->dilation + 1;
  const int OH = (tc->H + 2 * tc->pad - eff_h) / tc->stride + 1, OW = (tc->W + 2 * tc->pad - eff_w) / tc->stride + 1;
  *ran = 0;
  if (OH < 1 || OW < 1) return 0;
  const size_t xn = (size_t)tc->H * tc->W * tc->C, wn = (size_t)tc->kh * tc->kw * OC, rown = (size_t)OW * OC;
  uint8_t *xbase, *ybase;
  size_t xmap, ymap;
  int8_t* x = (int8_t*)guarded(xn, &xbase, &xmap);
  int8_t* y = (int8_t*)guarded(rown, &ybase, &ymap);
  int8_t* w = malloc(wn);
  int8_t* wk = malloc(wn); /* the kernel's copy (corrupted on request) */
  int32_t* bias = malloc(sizeof(int32_t) * (size_t)OC);
  int32_t* mult = malloc(sizeof(int32_t) * (size_t)OC);
  int32_t* shift = malloc(sizeof(int32_t) * (size_t)OC);
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
  const qs8_dwconv_pack_params pp = {tc->C, OC, tc->kh, tc->kw, tc->dilation, tc->in_zp, wk, bias, mult, shift, tc->double_rounding};
  const qs8_dwconv_pack_params pp_true = {tc->C, OC, tc->kh, tc->kw, tc->dilation, tc->in_zp, w, bias, mult, shift, tc->double_rounding};
  uint8_t *pbase = NULL;
  size_t pmap = 0;
  void* packed = NULL;
  if (qs8_dwconv_supports(uk, &pp_true)) {
    packed = guarded(uk->packed_size(&pp), &pbase, &pmap);
    uk->pack(&pp, packed);
  }
  const qs8_dwconv_params p = {tc->H, tc->W, tc->C, OW, OC, tc->kh, tc->kw, tc->stride, tc->stride, tc->dilation,
                               tc->dilation, tc->pad, tc->pad, tc->out_zp, tc->act_min, tc->act_max, packed};
  const int vec_end = tc->double_rounding ? 0 : OC / 8 * 8;
  size_t bad = 0;
  for (int oy = 0; packed != NULL && oy < OH; oy++) {
    uk->row(&p, x, oy, y);
    for (int ox = 0; ox < OW; ox++) {
      for (int c = 0; c < OC; c++) {
        int32_t acc = bias[c];
        for (int ky = 0; ky < tc->kh; ky++)
          for (int kx = 0; kx < tc->kw; kx++) {
            const int iy = oy * tc->stride - tc->pad + ky * tc->dilation, ix = ox * tc->stride - tc->pad + kx * tc->dilation;
            if (iy < 0 || iy >= tc->H || ix < 0 || ix >= tc->W) continue;
            acc += ((int32_t)x[((size_t)iy * tc->W + ix) * tc->C + c / tc->mult] - tc->in_zp) *
                   w[((size_t)ky * tc->kw + kx) * OC + c];
          }
        const int32_t q = c < vec_end ? el_requantize_gemm(acc, mult[c], shift[c]) : el_requantize(acc, mult[c], shift[c]);
        const int32_t want = el_clamp(q + tc->out_zp, tc->act_min, tc->act_max);
        const int32_t got = y[(size_t)ox * OC + c];
        (*outputs)++;
        if (got != want) {
          bad++;
          if (printed++ < 10)
            printf("MISMATCH %s H %d W %d C %d mult %d k %dx%d stride %d dilation %d pad %d oy %d [%d][%d] "
                   "expected %d got %d acc %d\n", uk->name, tc->H, tc->W, tc->C, tc->mult, tc->kh, tc->kw,
                   tc->stride, tc->dilation, tc->pad, oy, ox, c, want, got, acc);
        }
      }
    }
  }
  munmap(xbase, xmap);
  munmap(ybase, ymap);
  if (pbase != NULL) munmap(pbase, pmap);
  free(w);
  free(wk);
  free(bias);
  free(mult);
  free(shift);
  *ran = packed != NULL;
  return bad;
}

/* The first variant (best first) that supports a node of this shape, as the delegate's choice walks them. */
static void choose(const char* label, int C, int mult, int kh, int kw, int with_minus_128, int double_rounding) {
  const int OC = C * mult;
  int8_t* w = calloc((size_t)kh * kw * OC, 1);
  w[0] = with_minus_128 ? INT8_MIN : 1;
  const qs8_dwconv_pack_params pp = {C, OC, kh, kw, 1, 0, w, NULL, NULL, NULL, double_rounding};
  const qs8_dwconv_ukernel* uk = qs8_dwconv_ukernels;
  while (uk->name != NULL && ((uk->required_features & ~el_cpu_features()) || !qs8_dwconv_supports(uk, &pp))) uk++;
  printf("CHOOSE %s -> %s\n", label, uk->name != NULL ? uk->name : "none");
  free(w);
}

int main(int argc, char** argv) {
  const int corrupt = argc > 1 && strcmp(argv[1], "--corrupt") == 0;
  static const int channels[] = {1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 48};
  static const int filters[][2] = {{1, 1}, {3, 3}, {5, 5}, {3, 1}, {7, 7}};
  static const int32_t zps[][2] = {{0, 0}, {-128, 127}, {127, -128}, {5, -3}};
  choose("3x3", 32, 1, 3, 3, 0, 0);
  choose("5x5", 32, 1, 5, 5, 0, 0);
  choose("7x7", 32, 1, 7, 7, 0, 0);
  choose("3x3_multiplier2", 32, 2, 3, 3, 0, 0);
  choose("3x3_weight-128", 32, 1, 3, 3, 1, 0);
  choose("7x7_grouped_conv", 32, 1, 7, 7, 0, 1);
  int failed = 0;
  for (const qs8_dwconv_ukernel* uk = qs8_dwconv_ukernels; uk->name != NULL; uk++) {
    if (uk->required_features & ~el_cpu_features()) {
      printf("SKIP %s needs 0x%x cpu 0x%x\n", uk->name, uk->required_features, el_cpu_features());
      continue;
    }
    size_t cases = 0, outputs = 0, bad = 0;
    for (size_t ci = 0; ci < sizeof channels / sizeof channels[0]; ci++)
      for (int m = 1; m <= 3; m++)
        for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++)
          for (int v = 0; v < 6; v++) {
            const int kh = filters[f][0], kw = filters[f][1];
            if ((m > 1 || kh == 7) && v >= 4) continue; /* the long rows for the multiplier-1 kernels */
            /* v 4, 5: a row long enough for an interior sweep, stride 1 and 2, edge pixels on both sides */
            dw_case tc = {5 + v % 4, v >= 4 ? 21 + v : 6 + (v & 1), channels[ci], m, kh, kw, 1 + (v & 1),
                          1 + (v == 2), (kh > kw ? kh : kw) / 2 * (v != 1), zps[v % 4][0], zps[v % 4][1], -128, 127,
                          v == 3 ? 1 : (v == 5 && ci % 3 == 0 ? 2 : 0), 0};
            if (v == 2) tc.act_min = tc.out_zp, tc.act_max = tc.out_zp + 100 > 127 ? 127 : tc.out_zp + 100;
            int ran = 0;
            bad += run_case(uk, &tc, corrupt, &outputs, &ran);
            cases += (size_t)ran;
            if (v < 4) { /* the same case with a grouped CONV_2D's rounding (variants that honour it only) */
              tc.double_rounding = 1;
              bad += run_case(uk, &tc, corrupt, &outputs, &ran);
              cases += (size_t)ran;
            }
          }
    printf("RUN %s cases %zu outputs %zu mismatches %zu\n", uk->name, cases, outputs, bad);
    failed |= bad != 0 || outputs == 0;
  }
  printf("RESULT %s\n", failed ? "FAIL" : "PASS");
  return failed ? 1 : 0;
}
