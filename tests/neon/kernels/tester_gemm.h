/* What the dense and the block-sparse GEMM testers (test_qs8_gemm.c, test_qs8_spgemm.c) share: a case's
 * parameters from its running number, its inputs, the oracle (a plain integer loop over the dense weights + the
 * one shared requantize function, el_requantize_gemm) and the zero-tolerance check of C, canaries included.
 *
 * A case is built in two steps so the sparse tester can zero weight blocks in between, before the scales and
 * the expected outputs are derived from the weights: gemm_problem_make (A, w), then gemm_problem_finish. The
 * random draws happen in that order, so a tester's cases depend only on TESTER_SEED and the shapes.
 */
#ifndef EDGELIFT_TESTER_GEMM_H
#define EDGELIFT_TESTER_GEMM_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qs8_gemm.h"
#include "requantize.h"

#include "tester_guarded.h"
#include "tester_rng.h"

typedef struct gemm_case {
  size_t m, n, k, a_stride, c_stride;
  int32_t a_zp, out_zp, act_min, act_max;
  int weights_kind; /* 0 random [-127, 127], 1 all +-127 extremes, 2 small values (left shifts),
                       3 weights with -128 (outside TFLite's spec, still exact) against a = -128 */
  int no_bias;
} gemm_case;

static const int32_t gemm_zero_points[] = {-128, 127, 0, -1, 5, -77};

/* The case for shape m x n x k and running number `variant`, which picks strides, zero points, weights, bias
 * and clamp in turn. */
static gemm_case gemm_case_for(size_t m, size_t n, size_t k, size_t variant) {
  gemm_case tc;
  tc.m = m;
  tc.n = n;
  tc.k = k;
  tc.a_stride = k + (variant % 3 == 1 ? 5 : 0);
  tc.c_stride = n + (variant % 4 == 2 ? 3 : 0);
  tc.a_zp = gemm_zero_points[variant % 6];
  tc.out_zp = gemm_zero_points[(variant / 6) % 6];
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
  return tc;
}

/* One case's buffers: A and C guarded, w[n][k] dense (zeros where the sparse tester pruned), the expected. */
typedef struct gemm_problem {
  guarded ga, gc;
  int8_t *a, *c, *w, *expected;
  int32_t *bias, *mult, *shift, *expected_acc;
  size_t a_size, c_size;
} gemm_problem;

/* Allocates the case and draws A and w. */
static gemm_problem gemm_problem_make(const gemm_case* tc) {
  const size_t m = tc->m, n = tc->n, k = tc->k;
  gemm_problem pr;
  pr.w = malloc(n * k);
  pr.bias = malloc(n * sizeof(int32_t));
  pr.mult = malloc(n * sizeof(int32_t));
  pr.shift = malloc(n * sizeof(int32_t));
  pr.expected_acc = malloc(m * n * sizeof(int32_t));
  pr.expected = malloc(m * n);
  pr.a_size = (m - 1) * tc->a_stride + k;
  pr.c_size = (m - 1) * tc->c_stride + n;
  pr.ga = guarded_alloc(pr.a_size);
  pr.gc = guarded_alloc(pr.c_size);
  pr.a = (int8_t*)pr.ga.data;
  pr.c = (int8_t*)pr.gc.data;
  for (size_t i = 0; i < pr.a_size; i++) {
    pr.a[i] = tc->weights_kind == 2 ? (int8_t)rnd_range(-3, 3) : (int8_t)rnd_range(-128, 127);
  }
  if (tc->weights_kind == 1 || tc->weights_kind == 3) { /* extremes: products at their largest magnitude */
    for (size_t i = 0; i < pr.a_size; i++) pr.a[i] = (rnd() & 1) ? -128 : 127;
  }
  for (size_t i = 0; i < n * k; i++) {
    switch (tc->weights_kind) {
      case 1: pr.w[i] = (rnd() & 1) ? -127 : 127; break;
      case 2: pr.w[i] = (int8_t)rnd_range(-2, 2); break;
      case 3: pr.w[i] = (rnd() & 1) ? -128 : (int8_t)rnd_range(-128, 127); break;
      default: pr.w[i] = (int8_t)rnd_range(-127, 127); break;
    }
  }
  return pr;
}

/* Bias, per-channel scales and the oracle's outputs from the (final) weights; C filled with canaries. */
static void gemm_problem_finish(gemm_problem* pr, const gemm_case* tc) {
  const size_t m = tc->m, n = tc->n, k = tc->k;
  /* Scale so outputs spread over the int8 range (and some saturate): |acc| ~ sqrt(k) * |a - zp| * |w|. */
  double typical = 1.0;
  {
    double sum = 0.0;
    for (size_t i = 0; i < (k < 64 ? k : 64); i++) {
      const double d = (double)(pr->a[i] - tc->a_zp) * (double)pr->w[i];
      sum += d * d;
    }
    typical = sum > 0.0 ? sqrt(sum * (double)k / (double)(k < 64 ? k : 64)) : 1.0;
  }
  for (size_t j = 0; j < n; j++) {
    pr->bias[j] = tc->no_bias ? 0 : rnd_range(-20000, 20000);
    const double spread = 0.5 + (double)(rnd() % 1000) / 666.0; /* per channel 0.5 .. 2.0 */
    el_quantize_multiplier(60.0 / typical * spread, &pr->mult[j], &pr->shift[j]);
  }
  /* The oracle: a plain integer loop + the shared GEMM requantize function. */
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < n; j++) {
      int32_t acc = pr->bias[j];
      for (size_t kk = 0; kk < k; kk++) {
        acc += ((int32_t)pr->a[i * tc->a_stride + kk] - tc->a_zp) * (int32_t)pr->w[j * k + kk];
      }
      const int32_t y =
          el_clamp(el_requantize_gemm(acc, pr->mult[j], pr->shift[j]) + tc->out_zp, tc->act_min, tc->act_max);
      pr->expected_acc[i * n + j] = acc;
      pr->expected[i * n + j] = (int8_t)y;
    }
  }
  for (size_t i = 0; i < pr->c_size; i++) pr->c[i] = (int8_t)0x5A; /* canaries (padding keeps them) */
}

static qs8_gemm_params gemm_problem_params(const gemm_problem* pr, const gemm_case* tc) {
  const qs8_gemm_params params = {pr->mult, pr->shift, tc->out_zp, tc->act_min, tc->act_max, NULL, NULL, 0};
  return params;
}

static int gemm_failures_printed = 0; /* a tester resets it to let each variant report its own first failures */

/* Mismatching bytes of C (outputs and the canaries past n), the first 12 printed with their accumulators. */
static size_t gemm_problem_check(const gemm_problem* pr, const gemm_case* tc, const char* name) {
  const size_t m = tc->m, n = tc->n, k = tc->k;
  size_t bad = 0;
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < tc->c_stride && i * tc->c_stride + j < pr->c_size; j++) {
      const int8_t got = pr->c[i * tc->c_stride + j];
      const int in_matrix = j < n;
      const int8_t want = in_matrix ? pr->expected[i * n + j] : (int8_t)0x5A;
      if (got != want) {
        bad++;
        if (gemm_failures_printed < 12) {
          gemm_failures_printed++;
          printf("MISMATCH %s m=%zu n=%zu k=%zu a_stride=%zu c_stride=%zu a_zp=%d out_zp=%d act=[%d,%d] "
                 "weights_kind=%d at [%zu][%zu]%s: expected %d got %d acc %d multiplier %d shift %d\n",
                 name, m, n, k, tc->a_stride, tc->c_stride, tc->a_zp, tc->out_zp, tc->act_min, tc->act_max,
                 tc->weights_kind, i, j, in_matrix ? "" : " (padding canary)", want, got,
                 in_matrix ? pr->expected_acc[i * n + j] : 0, in_matrix ? pr->mult[j] : 0,
                 in_matrix ? pr->shift[j] : 0);
        }
      }
    }
  }
  return bad;
}

static void gemm_problem_free(gemm_problem* pr) {
  guarded_free(pr->ga);
  guarded_free(pr->gc);
  free(pr->w);
  free(pr->bias);
  free(pr->mult);
  free(pr->shift);
  free(pr->expected_acc);
  free(pr->expected);
}

/* The testers' command line: [--corrupt] [--quick]; exits 2 on anything else. */
static void gemm_tester_args(int argc, char** argv, int* corrupt, int* quick) {
  *corrupt = 0, *quick = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--corrupt") == 0) {
      *corrupt = 1;
    } else if (strcmp(argv[i], "--quick") == 0) {
      *quick = 1;
    } else {
      fprintf(stderr, "usage: %s [--corrupt] [--quick]\n", argv[0]);
      exit(2);
    }
  }
}

#endif
