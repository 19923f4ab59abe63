/* The guest side of benchmarks/gemm_tile_cost.py: runs every qs8 GEMM variant this CPU has on each shape given on
 * the command line, one marked region per (variant, shape), so the meter's counting plugin prices each call.
 *
 *   gemm_tile_cost M,N,K [M,N,K ...]
 *
 * Prints one line per region, "CASE <region hex> <variant> <m> <n> <k> <the rule's estimate>", one per shape,
 * "CHOICE <m> <n> <k> <variant>" (the delegate's per-layer choice, kernels=auto), and one per metered variant,
 * "GEOMETRY <variant> <mr> <nr> <kr> <half_nr>". Each call is run once unmarked first
 * (pages touched, branch paths warm), then once inside its region. Weights in [-127, 127] (TFLite's int8 weight
 * range: the fast path of the NEON variants), per-channel multipliers below 1 (no left shift: the common case).
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "profile_marker.h"
#include "qs8_gemm.h"
#include "qs8_gemm_cost.h"
#include "requantize.h"

enum { REGION_CLASS = 3u }; /* the meter's classes 1 and 2 are the guest's inference and the delegate's nodes */

static uint32_t rng = 12345u;
static int32_t rnd_range(int32_t lo, int32_t hi) {
  rng = rng * 1664525u + 1013904223u;
  return lo + (int32_t)((rng >> 8) % (uint32_t)(hi - lo + 1));
}

static void run_shape(uint32_t* region, size_t m, size_t n, size_t k) {
  int8_t* a = malloc(m * k);
  int8_t* w = malloc(n * k);
  int8_t* c = malloc(m * n);
  int32_t* bias = malloc(n * sizeof(int32_t));
  int32_t* mult = malloc(n * sizeof(int32_t));
  int32_t* shift = malloc(n * sizeof(int32_t));
  if (!a || !w || !c || !bias || !mult || !shift) exit(2);
  for (size_t i = 0; i < m * k; i++) a[i] = (int8_t)rnd_range(-128, 127);
  for (size_t i = 0; i < n * k; i++) w[i] = (int8_t)rnd_range(-127, 127);
  for (size_t j = 0; j < n; j++) {
    bias[j] = rnd_range(-20000, 20000);
    el_quantize_multiplier(0.0005 * (1.0 + (double)(j % 7) / 7.0), &mult[j], &shift[j]);
  }
  const qs8_gemm_params p = {mult, shift, -3, -128, 127, NULL, NULL, 0};
  const unsigned features = el_cpu_features();
  for (const qs8_gemm_ukernel* u = qs8_gemm_ukernels; u->name != NULL; u++) {
    if ((u->required_features & ~features) != 0) continue;
    void* packed = malloc(u->packed_size(n, k) + 64);
    if (!packed) exit(2);
    u->pack(n, k, w, bias, 5, packed);
    u->run(m, n, k, a, k, packed, c, n, &p);
    const uint32_t r = REGION_CLASS << 24 | (*region)++;
    el_mark(EL_MARK_BEGIN, r);
    u->run(m, n, k, a, k, packed, c, n, &p);
    el_mark(EL_MARK_END, r);
    const qs8_gemm_cost* cost = qs8_gemm_cost_of(u);
    printf("CASE %x %s %zu %zu %zu %.1f\n", r, u->name, m, n, k, cost ? qs8_gemm_estimate(cost, m, n, k) : -1.0);
    free(packed);
  }
  printf("CHOICE %zu %zu %zu %s\n", m, n, k, qs8_gemm_choose(features, NULL, m, n, k)->name);
  free(a), free(w), free(c), free(bias), free(mult), free(shift);
}

int main(int argc, char** argv) {
  uint32_t region = 0;
  for (const qs8_gemm_ukernel* u = qs8_gemm_ukernels; u->name != NULL; u++) {
    const qs8_gemm_cost* c = qs8_gemm_cost_of(u);
    if (c != NULL && (u->required_features & ~el_cpu_features()) == 0)
      printf("GEOMETRY %s %u %u %u %u\n", u->name, c->mr, c->nr, c->kr, c->half_nr);
  }
  for (int i = 1; i < argc; i++) {
    size_t m, n, k;
    if (sscanf(argv[i], "%zu,%zu,%zu", &m, &n, &k) != 3 || m == 0 || n == 0 || k == 0) {
      fprintf(stderr, "shape %s is not M,N,K with three positive integers\n", argv[i]);
      return 2;
    }
    run_shape(&region, m, n, k);
  }
  return 0;
}
