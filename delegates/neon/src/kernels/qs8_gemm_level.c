/* The `kernels=` levels (auto, scalar, neon, dot, sse41, avx2): which CPU features and which variants each one
 * lets the delegate use. One definition for every kernel family's selection (the dense GEMM list, the
 * block-sparse one, the per-layer tile choice, the op layer's kernel choice). */
#include <string.h>

#include "qs8_gemm.h"

/* What each forced level may use; a level the CPU lacks allows nothing. */
unsigned el_kernels_allowed(unsigned features, const char* forced) {
  if (forced == NULL || strcmp(forced, "auto") == 0) return features;
  static const struct {
    const char* name;
    unsigned level;
  } levels[] = {{"neon", EL_CPU_NEON},
                {"dot", EL_CPU_NEON | EL_CPU_DOTPROD},
                {"sse41", EL_CPU_SSE41},
                {"avx2", EL_CPU_SSE41 | EL_CPU_AVX2}};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
    if (strcmp(forced, levels[i].name) == 0) return (levels[i].level & ~features) == 0 ? levels[i].level : 0;
  return 0; /* "scalar" (and any other name): the portable variants only */
}

/* forced: NULL/"auto" = any variant the CPU runs; "scalar" = the portable reference; "neon" = an ARMv8.0 variant
 * (needs NEON, not SDOT); "dot" = a variant that uses SDOT; "sse41" = an SSE4.1 variant (no AVX2); "avx2" = an
 * AVX2 variant. */
int qs8_gemm_level_allows(const qs8_gemm_ukernel* u, unsigned features, const char* forced) {
  if ((u->required_features & ~features) != 0) return 0;
  if (forced == NULL || strcmp(forced, "auto") == 0) return 1;
  if (strcmp(forced, "scalar") == 0) return u->required_features == 0;
  if (strcmp(forced, "neon") == 0) return u->required_features == EL_CPU_NEON;
  if (strcmp(forced, "dot") == 0) return (u->required_features & EL_CPU_DOTPROD) != 0;
  if (strcmp(forced, "sse41") == 0) return u->required_features == EL_CPU_SSE41;
  if (strcmp(forced, "avx2") == 0) return (u->required_features & EL_CPU_AVX2) != 0;
  return 0;
}
