/* Standalone test of every block-sparse int8 GEMM microkernel compiled for this architecture
 * (qs8_spgemm_ukernels), the way tests/neon/kernels/test_qs8_gemm.c tests the dense ones.
 *
 * Oracle: a plain integer loop over the *dense* weights + el_requantize_gemm (requantize.h), zero tolerance:
 * a sparse kernel must give what the dense GEMM gives. Weights are zeroed in 16x4 blocks (the kernels' own, what
 * `convert --prune-kind block --target` emits), 1x4 and 4x4 blocks at densities 0, 0.1, 0.25, 0.5 and 1, and
 * unstructured (zeros that do not fill a block: those blocks stay; at 0.1 most kept k-groups hold one non-zero).
 * Shapes sit on the tile edges (m around 4, n around 16 and 32: empty and partial column blocks; k around 4 and
 * 16, k not a multiple of 4); padded strides; zero points at the extremes; -128 weights.
 * A and the packed weights end flush against a PROT_NONE page; C rows carry canaries past n.
 *
 * Output (parsed by tests/neon/test_spgemm_kernels.py):
 *   features 0x<hex> / select <forced> -> <name|none>
 *   RUN <name> cases <c> outputs <o> mismatches <x>
 *   DENSITY <name> <packed bytes used> of <bound>   (how much of the bound the sparsest case used)
 *   MISMATCH <name> ... expected E got G acc A ...
 *   RESULT PASS | RESULT FAIL
 * Options: --corrupt  flips one packed weight value per case (the test must then FAIL: proves it can).
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qs8_spgemm.h"

#include "tester_gemm.h"

/* Zeroes w[n][k] in blocks of `pattern` (0: 16x4, 1: 1x4, 2: 4x4 output x input channels, 3: single weights,
 * unstructured), keeping each block with probability `density`. */
static void prune(int8_t* w, size_t n, size_t k, int pattern, double density) {
  static const size_t rows[] = {16, 1, 4, 1}, cols[] = {4, 4, 4, 1};
  const size_t br = rows[pattern], bc = cols[pattern];
  for (size_t r0 = 0; r0 < n; r0 += br) {
    for (size_t c0 = 0; c0 < k; c0 += bc) {
      if ((double)(rnd() % 100000) / 100000.0 < density) continue;
      for (size_t r = r0; r < r0 + br && r < n; r++)
        for (size_t cc = c0; cc < c0 + bc && cc < k; cc++) w[r * k + cc] = 0;
    }
  }
}

static size_t min_used = (size_t)-1, min_bound = 0;

/* Runs one case on one variant, its weights pruned in `pattern` blocks to `density`; returns the number of
 * mismatching outputs. */
static size_t run_case(const qs8_gemm_ukernel* uk, const gemm_case* tc, int pattern, double density, int corrupt,
                       size_t* outputs) {
  const size_t n = tc->n, k = tc->k;
  gemm_problem pr = gemm_problem_make(tc);
  prune(pr.w, n, k, pattern, density);
  gemm_problem_finish(&pr, tc);
  const size_t packed_size = uk->packed_size(n, k);
  guarded gp = guarded_alloc(packed_size); /* reading past the packed weights faults too */
  void* packed = gp.data;
  uk->pack(n, k, pr.w, tc->no_bias ? NULL : pr.bias, tc->a_zp, packed);
  {
    /* the bytes the sparse layout used (groups walked to the end) */
    const uint8_t* g = (const uint8_t*)packed;
    for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR) g = qs8_spgemm_read_block(g).next;
    const size_t used = (size_t)(g - (const uint8_t*)packed);
    if (used > packed_size) {
      printf("MISMATCH %s packed %zu bytes past its bound %zu\n", uk->name, used, packed_size);
      exit(1);
    }
    if (density <= 0.25 && n * k >= 256 && used * min_bound < min_used * packed_size) {
      min_used = used, min_bound = packed_size;
    }
  }
  if (corrupt) {
    /* Flip the first kept weight value of the first column block's first group: some output must change. */
    const qs8_spgemm_block blk = qs8_spgemm_read_block((const uint8_t*)packed);
    int8_t* v = (int8_t*)(uintptr_t)blk.w;
    for (size_t i = 0; blk.groups > 0 && i < QS8_SPGEMM_GROUP_BYTES; i++)
      if (v[i] != 0) {
        v[i] = (int8_t)(v[i] == 127 ? 126 : v[i] + 1);
        break;
      }
  }
  const qs8_gemm_params params = gemm_problem_params(&pr, tc);
  uk->run(tc->m, n, k, pr.a, tc->a_stride, packed, pr.c, tc->c_stride, &params);
  const size_t bad = gemm_problem_check(&pr, tc, uk->name);
  *outputs += tc->m * n;
  guarded_free(gp);
  gemm_problem_free(&pr);
  return bad;
}

/* One case from its sizes and a running variant number, which picks strides, zero points, weights, clamp
 * (gemm_case_for), pruning pattern and density in turn. */
static void run_variant(const qs8_spgemm_ukernel* su, size_t m, size_t n, size_t k, size_t variant, int corrupt,
                        size_t* cases, size_t* outputs, size_t* bad) {
  static const double densities[] = {0.0, 0.1, 0.25, 0.5, 1.0};
  const gemm_case tc = gemm_case_for(m, n, k, variant);
  if (su->no_minus128 && tc.weights_kind == 3) return; /* outside its weight range (kernel choice) */
  *bad += run_case(&su->gemm, &tc, (int)(variant % 4), densities[(variant / 4) % 5], corrupt, outputs);
  (*cases)++;
}

int main(int argc, char** argv) {
  int corrupt, quick;
  gemm_tester_args(argc, argv, &corrupt, &quick);
  const unsigned features = el_cpu_features();
  printf("features 0x%x\n", features);
  static const char* const forced_names[] = {NULL, "neon", "dot", "avx2", "scalar"};
  for (size_t i = 0; i < sizeof(forced_names) / sizeof(forced_names[0]); i++) {
    const qs8_spgemm_ukernel* sel = qs8_spgemm_select(features, forced_names[i]);
    printf("select %s -> %s\n", forced_names[i] ? forced_names[i] : "auto", sel ? sel->gemm.name : "none");
  }

  static const size_t ms_full[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33};
  static const size_t ns_full[] = {1, 3, 8, 15, 16, 17, 32, 33, 40};
  /* k-groups per column block (density 1) around the Pi 5 kernel's four-group unroll: 1, 2, 3 (k = 12), 4, 5, 7
   (k = 28), 8, 9, 16, 25 */
  static const size_t ks_full[] = {1, 3, 4, 5, 8, 12, 15, 16, 17, 28, 31, 32, 33, 64, 100};
  static const size_t ms_quick[] = {1, 3, 4, 5, 9};
  static const size_t ns_quick[] = {1, 15, 16, 17, 33};
  static const size_t ks_quick[] = {3, 4, 16, 17, 33, 64};
  /* Deep k: the NEON variants copy A into a 16 KiB buffer of 4-row tiles (as many as fit, at least one), so these
   * cross its chunks of rows: k = 1000 takes 16 rows a chunk, 300 takes 52, 2049 and 4096 (the deepest) one tile. */
  static const size_t deep[][3] = {{33, 17, 1000}, {66, 40, 300}, {9, 33, 4096}, {6, 16, 2049}};
  const size_t* ms = quick ? ms_quick : ms_full;
  const size_t* ns = quick ? ns_quick : ns_full;
  const size_t* ks = quick ? ks_quick : ks_full;
  const size_t nm = quick ? sizeof(ms_quick) / sizeof(size_t) : sizeof(ms_full) / sizeof(size_t);
  const size_t nn = quick ? sizeof(ns_quick) / sizeof(size_t) : sizeof(ns_full) / sizeof(size_t);
  const size_t nk = quick ? sizeof(ks_quick) / sizeof(size_t) : sizeof(ks_full) / sizeof(size_t);

  int failed = 0;
  for (const qs8_spgemm_ukernel* su = qs8_spgemm_ukernels; su->gemm.name != NULL; su++) {
    const qs8_gemm_ukernel* uk = &su->gemm;
    min_used = (size_t)-1, min_bound = 0;
    gemm_failures_printed = 0; /* each variant reports its own first failures */
    if ((uk->required_features & ~features) != 0) {
      printf("SKIP %s needs 0x%x cpu 0x%x\n", uk->name, uk->required_features, features);
      continue;
    }
    size_t cases = 0, outputs = 0, bad = 0, variant = 0;
    rng_state = TESTER_SEED; /* every variant sees the same cases */
    for (size_t im = 0; im < nm; im++)
      for (size_t in = 0; in < nn; in++)
        for (size_t ik = 0; ik < nk; ik++, variant++)
          run_variant(su, ms[im], ns[in], ks[ik], variant, corrupt, &cases, &outputs, &bad);
    for (size_t i = 0; i < sizeof(deep) / sizeof(deep[0]); i++)
      for (size_t d = 2; d < 5; d++) /* densities 0.25, 0.5, 1; pattern, zero points, clamp vary with i */
        run_variant(su, deep[i][0], deep[i][1], deep[i][2], 20 * i + 4 * d + i % 4, corrupt, &cases, &outputs,
                    &bad);
    printf("RUN %s cases %zu outputs %zu mismatches %zu\n", uk->name, cases, outputs, bad);
    if (min_bound > 0) printf("DENSITY %s %zu of %zu\n", uk->name, min_used, min_bound);
    if (bad != 0) failed = 1;
  }
  printf("RESULT %s\n", failed ? "FAIL" : "PASS");
  return failed ? 1 : 0;
}
