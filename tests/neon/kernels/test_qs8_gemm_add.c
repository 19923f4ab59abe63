/* Standalone test of the residual ADD fused into every int8 GEMM variant's epilogue (qs8_gemm_add.h).
 *
 * Two oracles, zero tolerance:
 *  1. exhaustive: a GEMM whose conv value is its input (k = 1, weight 1, an identity rescale) over 256 rows
 *     (every int8) x 256 channels, with residual[i][j] = every int8: all 65,536 (conv, residual) pairs of the
 *     epilogue step, against the plain rule of qs8_vbinary_rules.h (qs8_gemm_add_one), for parameter sets with
 *     right and truncating shifts, zero points at the extremes, clamps;
 *  2. tile edges: random GEMMs (m, n, k on and off every tile) fused, against the same variant unfused
 *     followed by every ADD variant of qs8_vbinary_ukernels on the whole output (one call of vector body).
 * The residual ends flush against a PROT_NONE page (an over-read faults).
 * Output: RUN <gemm variant> cases N outputs N mismatches N, MISMATCH lines, RESULT PASS|FAIL.
 * --corrupt: the ADD's output zero point is off by one in the fused call (the test must then FAIL). */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qs8_gemm.h"
#include "qs8_gemm_add.h"
#include "qs8_vbinary.h"
#include "requantize.h"

#include "tester_rng.h"

/* `size` bytes ending where a PROT_NONE page begins */
static int8_t* guarded(size_t size, void** base, size_t* map) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (size + page - 1) / page;
  *map = (pages + 1) * page;
  uint8_t* b = mmap(NULL, *map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b == MAP_FAILED || mprotect(b + pages * page, page, PROT_NONE) != 0) {
    perror("mmap");
    exit(2);
  }
  *base = b;
  return (int8_t*)(b + pages * page - size);
}

/* ADD's parameters as ops/elementwise.c derives them (add.cc Prepare), conv = input "a" */
typedef struct add_set {
  double conv_scale, res_scale, out_scale;
  int32_t conv_zp, res_zp, out_zp;
  int relu;
} add_set;

static qs8_vbinary_params add_params(const add_set* s) {
  qs8_vbinary_params p;
  memset(&p, 0, sizeof p);
  const double twice_max = 2.0 * (s->conv_scale > s->res_scale ? s->conv_scale : s->res_scale);
  el_quantize_multiplier(s->conv_scale / twice_max, &p.a_multiplier, &p.a_shift);
  el_quantize_multiplier(s->res_scale / twice_max, &p.b_multiplier, &p.b_shift);
  el_quantize_multiplier(twice_max / ((double)(1 << QS8_VADD_LEFT_SHIFT) * s->out_scale), &p.out_multiplier,
                         &p.out_shift);
  p.a_offset = -s->conv_zp, p.b_offset = -s->res_zp, p.out_zero_point = s->out_zp;
  p.act_min = s->relu ? s->out_zp : -128, p.act_max = 127;
  return p;
}

static const add_set sets[] = {
    {0.05, 0.03, 0.06, 3, -7, 1, 0},           /* MobileNetV2-like: right shifts */
    {0.02, 0.09, 0.04, -128, 127, -128, 1},    /* zero points at the extremes, RELU */
    {0.1, 0.1, 0.1, 0, 0, 0, 0},               /* equal scales */
    {1e-7, 1.0, 0.5, 5, -5, 0, 0},             /* 20 + conv shift < 0: the folded shift truncates */
    {0.5, 0.002, 0.3, -100, 90, 20, 0},        /* scales 250x apart (ops/fusion.h: the output shift is < 0) */
};
enum { N_SETS = sizeof sets / sizeof sets[0] };

static int printed = 0;

static size_t compare(const char* name, const char* what, const int8_t* want, const int8_t* got, size_t m,
                      size_t n, size_t c_stride, const int8_t* conv, const int8_t* res) {
  size_t bad = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      if (want[i * n + j] != got[i * c_stride + j]) {
        if (printed++ < 12)
          printf("MISMATCH %s %s m %zu n %zu [%zu][%zu] conv %d residual %d expected %d got %d\n", name, what, m, n,
                 i, j, conv ? conv[i * n + j] : 0, res[i * c_stride + j], want[i * n + j], got[i * c_stride + j]);
        bad++;
      }
  return bad;
}

/* 1: every (conv, residual) pair through the variant's epilogue */
static size_t exhaustive(const qs8_gemm_ukernel* uk, const qs8_vbinary_params* add, int corrupt, size_t* outputs) {
  enum { M = 256, N = 256 };
  static int8_t a[M], w[N], want[M * N], conv[M * N];
  static int32_t mult[N], shift[N];
  void *rb, *cb;
  size_t rmap, cmap;
  int8_t* res = guarded(M * N, &rb, &rmap);
  int8_t* c = guarded(M * N, &cb, &cmap);
  for (int i = 0; i < M; i++) a[i] = (int8_t)(i - 128);
  for (int j = 0; j < N; j++) w[j] = 1, mult[j] = 1 << 30, shift[j] = 1; /* requantize: the identity */
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      res[i * N + j] = (int8_t)(j - 128);
      conv[i * N + j] = a[i];
      want[i * N + j] = qs8_gemm_add_one(a[i], res[i * N + j], add);
    }
  void* packed = malloc(uk->packed_size(N, 1) + 64);
  uk->pack(N, 1, w, NULL, 0, packed);
  qs8_vbinary_params used = *add;
  used.out_zero_point += corrupt;
  const qs8_gemm_params p = {mult, shift, 0, -128, 127, &used, res, N};
  uk->run(M, N, 1, a, 1, packed, c, N, &p);
  const size_t bad = compare(uk->name, "exhaustive", want, c, M, N, N, conv, res);
  *outputs += (size_t)M * N;
  free(packed);
  munmap(rb, rmap);
  munmap(cb, cmap);
  return bad;
}

/* 2: a random GEMM fused vs the same GEMM then an ADD variant over the whole output */
static size_t tile_case(const qs8_gemm_ukernel* uk, const qs8_vbinary_ukernel* vb, size_t m, size_t n, size_t k,
                        const qs8_vbinary_params* add, int corrupt, size_t* outputs) {
  const size_t c_stride = n; /* a dense NHWC tensor: the fused ADD needs its output contiguous */
  int8_t* a = malloc(m * k);
  int8_t* w = malloc(n * k);
  int32_t* bias = malloc(n * sizeof(int32_t));
  int32_t* mult = malloc(n * sizeof(int32_t));
  int32_t* shift = malloc(n * sizeof(int32_t));
  int8_t* conv = malloc(m * n);
  int8_t* want = malloc(m * n);
  void *rb, *cb;
  size_t rmap, cmap;
  int8_t* res = guarded(m * n, &rb, &rmap);
  int8_t* c = guarded(m * n, &cb, &cmap);
  for (size_t i = 0; i < m * k; i++) a[i] = (int8_t)rnd_range(-128, 127);
  for (size_t i = 0; i < n * k; i++) w[i] = (int8_t)rnd_range(-127, 127);
  for (size_t i = 0; i < m * n; i++) res[i] = (int8_t)rnd_range(-128, 127);
  for (size_t j = 0; j < n; j++) {
    bias[j] = rnd_range(-5000, 5000);
    el_quantize_multiplier(1.0 / (40.0 * (double)k + 1.0) * (0.5 + (double)(rnd() % 1000) / 666.0), &mult[j],
                           &shift[j]);
  }
  const int32_t a_zp = rnd_range(-20, 20), out_zp = rnd_range(-20, 20);
  void* packed = malloc(uk->packed_size(n, k) + 64);
  uk->pack(n, k, w, bias, a_zp, packed);
  const qs8_gemm_params plain = {mult, shift, out_zp, -128, 127, NULL, NULL, 0};
  uk->run(m, n, k, a, k, packed, conv, n, &plain);
  vb->add(add, m * n, conv, res, want); /* (m * n % 16 == 0: one call of vector body, as fused) */
  qs8_vbinary_params used = *add;
  used.out_zero_point += corrupt;
  const qs8_gemm_params fused = {mult, shift, out_zp, -128, 127, &used, res, n};
  uk->run(m, n, k, a, k, packed, c, c_stride, &fused);
  const size_t bad = compare(uk->name, vb->name, want, c, m, n, c_stride, conv, res);
  *outputs += m * n;
  free(a), free(w), free(bias), free(mult), free(shift), free(conv), free(want), free(packed);
  munmap(rb, rmap);
  munmap(cb, cmap);
  return bad;
}

int main(int argc, char** argv) {
  int corrupt = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--corrupt") == 0) {
      corrupt = 1;
    } else {
      fprintf(stderr, "usage: %s [--corrupt]\n", argv[0]);
      return 2;
    }
  }
  const unsigned features = el_cpu_features();
  printf("features 0x%x\n", features);
  static const size_t shapes[][3] = {{16, 1, 1},  {1, 16, 3},  {2, 8, 16},  {3, 16, 17}, {4, 16, 8},  {5, 16, 33},
                                     {8, 2, 24},  {7, 32, 9},  {9, 48, 64}, {16, 17, 5}, {17, 16, 15}, {50, 24, 40},
                                     {48, 8, 257}, {6, 40, 100}, {32, 3, 7}, {13, 64, 144}};
  int failed = 0;
  for (const qs8_gemm_ukernel* uk = qs8_gemm_ukernels; uk->name != NULL; uk++) {
    if ((uk->required_features & ~features) != 0) {
      printf("SKIP %s needs 0x%x cpu 0x%x\n", uk->name, uk->required_features, features);
      continue;
    }
    size_t cases = 0, outputs = 0, bad = 0;
    rng_state = 0x9E3779B97F4A7C15ull;
    for (size_t s = 0; s < N_SETS; s++) {
      const qs8_vbinary_params add = add_params(&sets[s]);
      bad += exhaustive(uk, &add, corrupt, &outputs);
      cases++;
      for (const qs8_vbinary_ukernel* vb = qs8_vbinary_ukernels; vb->name != NULL; vb++) {
        if ((vb->required_features & ~features) != 0) continue;
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++, cases++)
          bad += tile_case(uk, vb, shapes[i][0], shapes[i][1], shapes[i][2], &add, corrupt, &outputs);
      }
    }
    printf("RUN %s cases %zu outputs %zu mismatches %zu\n", uk->name, cases, outputs, bad);
    if (bad != 0) failed = 1;
  }
  printf("RESULT %s\n", failed ? "FAIL" : "PASS");
  return failed ? 1 : 0;
}
