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
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qs8_spgemm.h"
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
  int pattern;    /* zeros in blocks of 0: 16x4, 1: 1x4, 2: 4x4 (output x input channels), 3: unstructured */
  double density; /* fraction of blocks (or weights, unstructured) kept */
} gemm_case;

/* Zeroes w[n][k] in the case's blocks, keeping each block with probability `density`. */
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
  prune(w, n, k, tc->pattern, tc->density);
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
  {
    /* the bytes the sparse layout used (groups walked to the end) */
    const uint8_t* g = (const uint8_t*)packed;
    for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR) g = qs8_spgemm_read_block(g).next;
    const size_t used = (size_t)(g - (const uint8_t*)packed);
    if (used > packed_size) {
      printf("MISMATCH %s packed %zu bytes past its bound %zu\n", uk->name, used, packed_size);
      exit(1);
    }
    if (tc->density <= 0.25 && n * k >= 256 && used * min_bound < min_used * packed_size) {
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

/* One case from its sizes and a running variant number, which picks strides, zero points, weights, clamp,
 * pruning pattern and density in turn. */
static void run_variant(const qs8_spgemm_ukernel* su, size_t m, size_t n, size_t k, size_t variant, int corrupt,
                        size_t* cases, size_t* outputs, size_t* bad) {
  static const double densities[] = {0.0, 0.1, 0.25, 0.5, 1.0};
  gemm_case tc;
  tc.m = m;
  tc.n = n;
  tc.k = k;
  tc.a_stride = tc.k + (variant % 3 == 1 ? 5 : 0);
  tc.c_stride = tc.n + (variant % 4 == 2 ? 3 : 0);
  tc.a_zp = zero_points[variant % 6];
  tc.out_zp = zero_points[(variant / 6) % 6];
  tc.weights_kind = variant % 7 == 3 ? 1 : (variant % 5 == 4 ? 2 : (variant % 13 == 5 ? 3 : 0));
  tc.no_bias = variant % 11 == 7;
  tc.pattern = (int)(variant % 4);
  tc.density = densities[(variant / 4) % 5];
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
  if (su->no_minus128 && tc.weights_kind == 3) return; /* outside its weight range (kernel choice) */
  *bad += run_case(&su->gemm, &tc, corrupt, outputs);
  (*cases)++;
}

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
    const qs8_spgemm_ukernel* sel = qs8_spgemm_select(features, forced_names[i]);
    printf("select %s -> %s\n", forced_names[i] ? forced_names[i] : "auto", sel ? sel->gemm.name : "none");
  }

  static const size_t ms_full[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33};
  static const size_t ns_full[] = {1, 3, 8, 15, 16, 17, 32, 33, 40};
  static const size_t ks_full[] = {1, 3, 4, 5, 8, 15, 16, 17, 31, 32, 33, 64, 100};
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
    failures_printed = 0; /* each variant reports its own first failures */
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
