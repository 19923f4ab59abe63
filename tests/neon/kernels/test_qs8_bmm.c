/* Standalone test of the BATCH_MATMUL kernels (qs8_bmm_ukernels: the tiled variant and its reference twin) and
 * of the shared RHS packing, both layouts (b as [k][n], and as [n][k] for adj_y).
 *
 * Oracle: a plain integer loop over the unpacked operands with both zero points + el_requantize (gemmlowp's
 * double rounding, what LiteRT 2.3's builtin BATCH_MATMUL uses), zero tolerance. m, n, k around the 4x4 tile
 * and the 8-deep NEON step (1, 3, 4, 5, 8, 9, 16, 17, 33), zero points at the extremes, operands holding -128
 * and 127, multipliers with right shifts, powers of two (exact ties of both signs) and a left shift. A sits flush against a PROT_NONE page, C ends flush against one (and rows carry
 * canaries past n), so an over-read or over-write faults or shows.
 *
 * Output (parsed by tests/neon/test_bmm_kernels.py):
 *   RUN <name> cases <c> outputs <o> mismatches <x>
 *   MISMATCH <name> m n k ... [i][j] expected E got G acc A
 *   RESULT PASS | RESULT FAIL
 * Option: --corrupt flips one packed RHS byte per case (the test must then FAIL: proves it can).
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qs8_bmm.h"
#include "requantize.h"

#include "tester_guarded.h"
#include "tester_rng.h"

typedef struct bmm_case {
  size_t m, n, k, a_stride, c_stride;
  int adj_y; /* b given as [n][k] */
  int32_t a_zp, b_zp, out_zp;
  int extremes;        /* operands only -128 / 127 */
  int multiplier_kind; /* 0 spread over int8, 1 a power of two (ties), 2 above 1 (left shift) */
} bmm_case;

static int printed = 0;

static size_t run_case(const qs8_bmm_ukernel* uk, const bmm_case* tc, int corrupt, size_t* outputs) {
  const size_t m = tc->m, n = tc->n, k = tc->k;
  const size_t a_size = (m - 1) * tc->a_stride + k, c_size = (m - 1) * tc->c_stride + n;
  guarded ga = guarded_alloc(a_size), gc = guarded_alloc(c_size);
  int8_t *a = (int8_t*)ga.data, *c = (int8_t*)gc.data;
  int8_t* b = malloc(n * k);
  int32_t* acc = malloc(m * n * sizeof(int32_t));
  for (size_t i = 0; i < a_size; i++) a[i] = tc->extremes ? ((rnd() & 1) ? -128 : 127) : (int8_t)rnd_range(-128, 127);
  for (size_t i = 0; i < n * k; i++) b[i] = tc->extremes ? ((rnd() & 1) ? -128 : 127) : (int8_t)rnd_range(-128, 127);
  a[0] = -128, b[0] = -128, b[n * k - 1] = 127;
  const size_t k_stride = tc->adj_y ? 1 : n, n_stride = tc->adj_y ? k : 1;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      int32_t s = 0;
      for (size_t kk = 0; kk < k; kk++)
        s += ((int32_t)a[i * tc->a_stride + kk] - tc->a_zp) * ((int32_t)b[kk * k_stride + j * n_stride] - tc->b_zp);
      acc[i * n + j] = s;
    }
  /* a multiplier that spreads the outputs over int8 (some saturate): |acc| ~ sqrt(k) * 128 * 128 */
  int32_t mult, shift;
  el_quantize_multiplier(60.0 / (sqrt((double)k) * 9000.0) * (0.5 + (double)(rnd() % 1000) / 666.0), &mult, &shift);
  if (tc->multiplier_kind == 1) { /* a power of two: 1 in 2^s accumulators is an exact tie, half of them negative */
    int s = 8;
    while ((size_t)1 << (2 * (s - 8)) < k) s++;
    el_quantize_multiplier(1.0 / (double)(1 << s), &mult, &shift);
  } else if (tc->multiplier_kind == 2) { /* above 1: the left shift */
    el_quantize_multiplier(1.5, &mult, &shift);
  }
  const size_t psize = qs8_bmm_packed_size(n, k);
  guarded gp = guarded_alloc(psize);
  qs8_bmm_pack(n, k, b, k_stride, n_stride, tc->a_zp, tc->b_zp, gp.data);
  if (corrupt) gp.data[n * sizeof(int32_t) + rnd() % (n * k)] ^= 0x55; /* one RHS value */
  memset(c, 0x5A, c_size);
  const qs8_bmm_params p = {mult, shift, tc->a_zp, tc->b_zp, tc->out_zp};
  uk->run(m, n, k, a, tc->a_stride, gp.data, c, tc->c_stride, &p);
  size_t bad = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < tc->c_stride && i * tc->c_stride + j < c_size; j++) {
      const int in_matrix = j < n;
      const int8_t want = in_matrix ? (int8_t)el_clamp(el_requantize(acc[i * n + j], mult, shift) + tc->out_zp,
                                                       -128, 127)
                                    : (int8_t)0x5A;
      const int8_t got = c[i * tc->c_stride + j];
      if (got != want) {
        bad++;
        if (printed++ < 12)
          printf("MISMATCH %s m=%zu n=%zu k=%zu adj_y=%d a_zp=%d b_zp=%d out_zp=%d at [%zu][%zu]%s: expected %d got %d "
                 "acc %d multiplier %d shift %d\n",
                 uk->name, m, n, k, tc->adj_y, tc->a_zp, tc->b_zp, tc->out_zp, i, j, in_matrix ? "" : " (canary)",
                 want, got, in_matrix ? acc[i * n + j] : 0, mult, shift);
      }
    }
  *outputs += m * n;
  guarded_free(ga);
  guarded_free(gc);
  guarded_free(gp);
  free(b);
  free(acc);
  return bad;
}

static const int32_t zero_points[] = {-128, 127, 0, -1, 8, -77};

int main(int argc, char** argv) {
  const int corrupt = argc > 1 && strcmp(argv[1], "--corrupt") == 0;
  static const size_t sizes[] = {1, 3, 4, 5, 8, 9, 16, 17, 33};
  const size_t ns = sizeof sizes / sizeof sizes[0];
  int failed = 0;
  for (const qs8_bmm_ukernel* uk = qs8_bmm_ukernels; uk->name != NULL; uk++) {
    size_t cases = 0, outputs = 0, bad = 0, v = 0;
    rng_state = TESTER_SEED; /* every variant sees the same cases */
    for (size_t im = 0; im < ns; im++)
      for (size_t in = 0; in < ns; in++)
        for (size_t ik = 0; ik < ns; ik++, v++) {
          bmm_case tc = {sizes[im], sizes[in], sizes[ik], 0, 0, (int)(v % 2), zero_points[v % 6],
                         zero_points[(v / 6) % 6], zero_points[(v / 36) % 6], v % 7 == 3,
                         v % 5 == 1 ? 1 : (v % 11 == 4 ? 2 : 0)};
          tc.a_stride = tc.k + (v % 3 == 1 ? 5 : 0);
          tc.c_stride = tc.n + (v % 4 == 2 ? 3 : 0);
          bad += run_case(uk, &tc, corrupt, &outputs);
          cases++;
        }
    printf("RUN %s cases %zu outputs %zu mismatches %zu\n", uk->name, cases, outputs, bad);
    if (bad != 0) failed = 1;
  }
  printf("RESULT %s\n", failed ? "FAIL" : "PASS");
  return failed ? 1 : 0;
}
