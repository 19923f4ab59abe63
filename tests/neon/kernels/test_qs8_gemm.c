/* Standalone test of every int8 GEMM microkernel compiled for this architecture (qs8_gemm_ukernels).
 *
 * Oracle: a plain integer loop + the one shared GEMM requantize function (el_requantize_gemm of requantize.h:
 * the rescale of TFLite's CONV_2D / FULLY_CONNECTED, which run in ruy), zero tolerance.
 * Shapes sit on the tile edges of every variant (scalar, 2x8 neon_mlal, 4x16 neondot, 3x8c8 avx2 and its
 * 48-row panels and 256-deep k blocks): m, n, k equal to,
 * one less than, one more than and multiples of the tiles; odd counts; padded strides. Zero points at the
 * extremes, clamps of RELU6 and none, multipliers with right and left shifts.
 * A and the packed weights are placed flush against a PROT_NONE page (an over-read faults); C rows carry
 * canaries past n and C ends flush against a PROT_NONE page (an over-write faults or trips a canary).
 *
 * Output (parsed by tests/neon/test_gemm_kernels_qemu.py):
 *   features 0x<hex>
 *   select auto -> <name|none>    select neon -> ...    select dot -> ...    select avx2 -> ...    select scalar -> ...
 *   choose <m>,<n>,<k> <level> -> <name|none>   the per-layer tile choice (qs8_gemm_cost.h) on a few shapes
 *   RUN <name> cases <c> outputs <o> mismatches <x>
 *   SKIP <name> needs 0x<hex> cpu 0x<hex>
 *   MISMATCH <name> m n k ... [i][j] expected E got G acc A ...
 *   RESULT PASS | RESULT FAIL
 * Options: --corrupt  flips one packed weight byte per case (the test must then FAIL: proves it can).
 *          --quick    fewer shapes (for slow emulation).
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qs8_gemm.h"
#include "qs8_gemm_cost.h"
#include "requantize.h"

#include "tester_rng.h"

/* A buffer of `size` bytes that ends exactly where a PROT_NONE page begins. */
typedef struct guarded {
  uint8_t* base;
  size_t map_size;
  uint8_t* data;
} guarded;

static guarded guarded_alloc(size_t size) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t data_pages = (size + page - 1) / page;
  guarded g;
  g.map_size = (data_pages + 1) * page;
  g.base = mmap(NULL, g.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g.base == MAP_FAILED) {
    perror("mmap");
    exit(2);
  }
  if (mprotect(g.base + data_pages * page, page, PROT_NONE) != 0) {
    perror("mprotect");
    exit(2);
  }
  g.data = g.base + data_pages * page - size;
  return g;
}

static void guarded_free(guarded g) { munmap(g.base, g.map_size); }

typedef struct gemm_case {
  size_t m, n, k, a_stride, c_stride;
  int32_t a_zp, out_zp, act_min, act_max;
  int weights_kind; /* 0 random [-127, 127], 1 all +-127 extremes, 2 small values (left shifts),
                       3 weights with -128 (outside TFLite's spec, still exact) against a = -128 */
  int no_bias;
} gemm_case;

static int failures_printed = 0;

/* Runs one case on one variant; returns the number of mismatching outputs. */
static size_t run_case(const qs8_gemm_ukernel* uk, const gemm_case* tc, int corrupt, size_t* outputs) {
  const size_t m = tc->m, n = tc->n, k = tc->k;
  int8_t* w = malloc(n * k);
  int32_t* bias = malloc(n * sizeof(int32_t));
  int32_t* mult = malloc(n * sizeof(int32_t));
  int32_t* shift = malloc(n * sizeof(int32_t));
  int32_t* expected_acc = malloc(m * n * sizeof(int32_t));
  int8_t* expected = malloc(m * n);
  const size_t a_size = (m - 1) * tc->a_stride + k;
  const size_t c_size = (m - 1) * tc->c_stride + n;
  guarded ga = guarded_alloc(a_size);
  guarded gc = guarded_alloc(c_size);
  int8_t* a = (int8_t*)ga.data;
  int8_t* c = (int8_t*)gc.data;

  for (size_t i = 0; i < a_size; i++) {
    a[i] = tc->weights_kind == 2 ? (int8_t)rnd_range(-3, 3) : (int8_t)rnd_range(-128, 127);
  }
  if (tc->weights_kind == 1 || tc->weights_kind == 3) { /* extremes: products at their largest magnitude */
    for (size_t i = 0; i < a_size; i++) a[i] = (rnd() & 1) ? -128 : 127;
  }
  for (size_t i = 0; i < n * k; i++) {
    switch (tc->weights_kind) {
      case 1: w[i] = (rnd() & 1) ? -127 : 127; break;
      case 2: w[i] = (int8_t)rnd_range(-2, 2); break;
      case 3: w[i] = (rnd() & 1) ? -128 : (int8_t)rnd_range(-128, 127); break;
      default: w[i] = (int8_t)rnd_range(-127, 127); break;
    }
  }
  /* Scale so outputs spread over the int8 range (and some saturate): |acc| ~ sqrt(k) * |a - zp| * |w|. */
  double typical = 1.0;
  {
    double sum = 0.0;
    for (size_t i = 0; i < (k < 64 ? k : 64); i++) {
      const double d = (double)(a[i] - tc->a_zp) * (double)w[i];
      sum += d * d;
    }
    typical = sum > 0.0 ? sqrt(sum * (double)k / (double)(k < 64 ? k : 64)) : 1.0;
  }
  for (size_t j = 0; j < n; j++) {
    bias[j] = tc->no_bias ? 0 : rnd_range(-20000, 20000);
    const double spread = 0.5 + (double)(rnd() % 1000) / 666.0; /* per channel 0.5 .. 2.0 */
    el_quantize_multiplier(60.0 / typical * spread, &mult[j], &shift[j]);
  }

  /* The oracle: a plain integer loop + the shared GEMM requantize function. */
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < n; j++) {
      int32_t acc = bias[j];
      for (size_t kk = 0; kk < k; kk++) {
        acc += ((int32_t)a[i * tc->a_stride + kk] - tc->a_zp) * (int32_t)w[j * k + kk];
      }
      const int32_t y = el_clamp(el_requantize_gemm(acc, mult[j], shift[j]) + tc->out_zp, tc->act_min, tc->act_max);
      expected_acc[i * n + j] = acc;
      expected[i * n + j] = (int8_t)y;
    }
  }

  const size_t packed_size = uk->packed_size(n, k);
  guarded gp = guarded_alloc(packed_size); /* reading past the packed weights faults too */
  void* packed = gp.data;
  uk->pack(n, k, w, tc->no_bias ? NULL : bias, tc->a_zp, packed);
  if (corrupt) {
    /* Flip one weight byte somewhere past the start: some output must change. */
    ((uint8_t*)packed)[packed_size - 1 - (rnd() % (packed_size / 2 + 1))] ^= 0x55;
  }
  for (size_t i = 0; i < c_size; i++) c[i] = (int8_t)0x5A; /* canaries (padding keeps them) */
  const qs8_gemm_params params = {mult, shift, tc->out_zp, tc->act_min, tc->act_max, NULL, NULL, 0};
  uk->run(m, n, k, a, tc->a_stride, packed, c, tc->c_stride, &params);

  size_t bad = 0;
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < tc->c_stride && i * tc->c_stride + j < c_size; j++) {
      const int8_t got = c[i * tc->c_stride + j];
      const int in_matrix = j < n;
      const int8_t want = in_matrix ? expected[i * n + j] : (int8_t)0x5A;
      if (got != want) {
        bad++;
        if (failures_printed < 12) {
          failures_printed++;
          printf("MISMATCH %s m=%zu n=%zu k=%zu a_stride=%zu c_stride=%zu a_zp=%d out_zp=%d act=[%d,%d] "
                 "weights_kind=%d at [%zu][%zu]%s: expected %d got %d acc %d multiplier %d shift %d\n",
                 uk->name, m, n, k, tc->a_stride, tc->c_stride, tc->a_zp, tc->out_zp, tc->act_min,
                 tc->act_max, tc->weights_kind, i, j, in_matrix ? "" : " (padding canary)", want, got,
                 in_matrix ? expected_acc[i * n + j] : 0, in_matrix ? mult[j] : 0, in_matrix ? shift[j] : 0);
        }
      }
    }
  }
  *outputs += m * n;
  guarded_free(gp);
  guarded_free(ga);
  guarded_free(gc);
  free(w);
  free(bias);
  free(mult);
  free(shift);
  free(expected_acc);
  free(expected);
  return bad;
}

static const int32_t zero_points[] = {-128, 127, 0, -1, 5, -77};

int main(int argc, char** argv) {
  int corrupt = 0, quick = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--corrupt") == 0) {
      corrupt = 1;
    } else if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else {
      fprintf(stderr, "usage: %s [--corrupt] [--quick]\n", argv[0]);
      return 2;
    }
  }
  const unsigned features = el_cpu_features();
  printf("features 0x%x\n", features);
  static const char* const forced_names[] = {NULL, "neon", "dot", "avx2", "scalar"};
  for (size_t i = 0; i < sizeof(forced_names) / sizeof(forced_names[0]); i++) {
    const qs8_gemm_ukernel* sel = qs8_gemm_select(features, forced_names[i]);
    printf("select %s -> %s\n", forced_names[i] ? forced_names[i] : "auto", sel ? sel->name : "none");
  }

  /* The per-layer choice: a deep batch-1 FULLY_CONNECTED, a digits-CNN conv, a MobileNetV2 expansion. */
  static const size_t shapes[][3] = {{1, 1000, 1280}, {1, 64, 512}, {2, 32, 32}, {64, 32, 144}, {3136, 144, 24}};
  for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
    for (size_t i = 0; i < sizeof(forced_names) / sizeof(forced_names[0]); i++) {
      const qs8_gemm_ukernel* ch = qs8_gemm_choose(features, forced_names[i], shapes[s][0], shapes[s][1], shapes[s][2]);
      printf("choose %zu,%zu,%zu %s -> %s\n", shapes[s][0], shapes[s][1], shapes[s][2],
             forced_names[i] ? forced_names[i] : "auto", ch ? ch->name : "none");
    }
  }

  static const size_t ms_full[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 49};
  static const size_t ns_full[] = {1, 3, 7, 8, 9, 15, 16, 17, 33};
  static const size_t ks_full[] = {1, 3, 4, 5, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 64, 100, 257, 523};
  static const size_t ms_quick[] = {1, 2, 3, 4, 5, 9};
  static const size_t ns_quick[] = {1, 7, 8, 9, 16, 17, 33};
  static const size_t ks_quick[] = {1, 4, 8, 9, 15, 16, 17, 24, 33, 100, 257};
  const size_t* ms = quick ? ms_quick : ms_full;
  const size_t* ns = quick ? ns_quick : ns_full;
  const size_t* ks = quick ? ks_quick : ks_full;
  const size_t nm = quick ? sizeof(ms_quick) / sizeof(size_t) : sizeof(ms_full) / sizeof(size_t);
  const size_t nn = quick ? sizeof(ns_quick) / sizeof(size_t) : sizeof(ns_full) / sizeof(size_t);
  const size_t nk = quick ? sizeof(ks_quick) / sizeof(size_t) : sizeof(ks_full) / sizeof(size_t);

  int failed = 0;
  for (const qs8_gemm_ukernel* uk = qs8_gemm_ukernels; uk->name != NULL; uk++) {
    if ((uk->required_features & ~features) != 0) {
      printf("SKIP %s needs 0x%x cpu 0x%x\n", uk->name, uk->required_features, features);
      continue;
    }
    size_t cases = 0, outputs = 0, bad = 0, variant = 0;
    rng_state = TESTER_SEED; /* every variant sees the same cases */
    for (size_t im = 0; im < nm; im++) {
      for (size_t in = 0; in < nn; in++) {
        for (size_t ik = 0; ik < nk; ik++, variant++) {
          gemm_case tc;
          tc.m = ms[im];
          tc.n = ns[in];
          tc.k = ks[ik];
          tc.a_stride = tc.k + (variant % 3 == 1 ? 5 : 0);
          tc.c_stride = tc.n + (variant % 4 == 2 ? 3 : 0);
          tc.a_zp = zero_points[variant % 6];
          tc.out_zp = zero_points[(variant / 6) % 6];
          tc.weights_kind = variant % 7 == 3 ? 1 : (variant % 5 == 4 ? 2 : (variant % 13 == 5 ? 3 : 0));
          tc.no_bias = variant % 11 == 7;
          if (variant % 3 == 0) { /* RELU6-like clamp in the quantized domain */
            tc.act_min = tc.out_zp;
            tc.act_max = tc.out_zp + 40 > 127 ? 127 : tc.out_zp + 40;
          } else if (variant % 3 == 1) {
            tc.act_min = -128;
            tc.act_max = 127;
          } else { /* RELU */
            tc.act_min = tc.out_zp;
            tc.act_max = 127;
          }
          bad += run_case(uk, &tc, corrupt, &outputs);
          cases++;
        }
      }
    }
    printf("RUN %s cases %zu outputs %zu mismatches %zu\n", uk->name, cases, outputs, bad);
    if (bad != 0) failed = 1;
  }
  printf("RESULT %s\n", failed ? "FAIL" : "PASS");
  return failed ? 1 : 0;
}
