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
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qs8_gemm.h"
#include "qs8_gemm_cost.h"

#include "tester_gemm.h"

/* Runs one case on one variant; returns the number of mismatching outputs. */
static size_t run_case(const qs8_gemm_ukernel* uk, const gemm_case* tc, int corrupt, size_t* outputs) {
  gemm_problem pr = gemm_problem_make(tc);
  gemm_problem_finish(&pr, tc);
  const size_t packed_size = uk->packed_size(tc->n, tc->k);
  guarded gp = guarded_alloc(packed_size); /* reading past the packed weights faults too */
  void* packed = gp.data;
  uk->pack(tc->n, tc->k, pr.w, tc->no_bias ? NULL : pr.bias, tc->a_zp, packed);
  if (corrupt) {
    /* Flip one weight byte somewhere past the start: some output must change. */
    ((uint8_t*)packed)[packed_size - 1 - (rnd() % (packed_size / 2 + 1))] ^= 0x55;
  }
  const qs8_gemm_params params = gemm_problem_params(&pr, tc);
  uk->run(tc->m, tc->n, tc->k, pr.a, tc->a_stride, packed, pr.c, tc->c_stride, &params);
  const size_t bad = gemm_problem_check(&pr, tc, uk->name);
  *outputs += tc->m * tc->n;
  guarded_free(gp);
  gemm_problem_free(&pr);
  return bad;
}

int main(int argc, char** argv) {
  int corrupt, quick;
  gemm_tester_args(argc, argv, &corrupt, &quick);
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
          const gemm_case tc = gemm_case_for(ms[im], ns[in], ks[ik], variant);
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
