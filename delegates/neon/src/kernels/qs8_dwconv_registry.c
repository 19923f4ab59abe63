/* The one list of qs8 depthwise variants, best first, and what each can compute (see qs8_dwconv.h). */
#include <stddef.h>

#include "qs8_dwconv.h"
#include "qs8_gemm.h" /* EL_CPU_* */

#define EL_DWCONV_DECLARE(name)                                                                    \
  size_t name##_packed_size(const qs8_dwconv_pack_params* pp);                                     \
  void name##_pack(const qs8_dwconv_pack_params* pp, void* packed);                                \
  void name(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row)

EL_DWCONV_DECLARE(qs8_dwconv_16c__scalar);

/* ---- SIMD variants: declarations (aarch64 only) ---- */
#if defined(__aarch64__)
/* One packed layout (qs8_dwconv_16c__neon_mlal_pack) serves the three row functions. */
size_t qs8_dwconv_16c__neon_mlal_packed_size(const qs8_dwconv_pack_params* pp);
void qs8_dwconv_16c__neon_mlal_pack(const qs8_dwconv_pack_params* pp, void* packed);
void qs8_dwconv_3x3_16c__neon_mlal(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row);
void qs8_dwconv_5x5_16c__neon_mlal(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row);
void qs8_dwconv_kxk_16c__neon_mlal(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row);
#define EL_NEON_MLAL(name, kh, kw)                                                                 \
  {#name, EL_CPU_NEON, kh, kw, 16, 0, 1, qs8_dwconv_16c__neon_mlal_packed_size,                       \
   qs8_dwconv_16c__neon_mlal_pack, name, 1}
#endif

#if defined(__x86_64__)
EL_DWCONV_DECLARE(qs8_dwconv_16c__avx2);
#endif

const qs8_dwconv_ukernel qs8_dwconv_ukernels[] = {
#if defined(__aarch64__)
    EL_NEON_MLAL(qs8_dwconv_3x3_16c__neon_mlal, 3, 3),
    EL_NEON_MLAL(qs8_dwconv_5x5_16c__neon_mlal, 5, 5),
    EL_NEON_MLAL(qs8_dwconv_kxk_16c__neon_mlal, 0, 0),
#endif
#if defined(__x86_64__)
    /* any filter size, depth multiplier 1, any int8 weight; DEPTHWISE_CONV_2D's rounding only */
    {"qs8_dwconv_16c__avx2", EL_CPU_SSE41 | EL_CPU_AVX2, 0, 0, 0, 0, 0, qs8_dwconv_16c__avx2_packed_size,
     qs8_dwconv_16c__avx2_pack, qs8_dwconv_16c__avx2, 0},
#endif
    {"qs8_dwconv_16c__scalar", 0, 0, 0, 0, 1, 0, qs8_dwconv_16c__scalar_packed_size, qs8_dwconv_16c__scalar_pack,
     qs8_dwconv_16c__scalar, 1},
    {NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0},
};

int qs8_dwconv_supports(const qs8_dwconv_ukernel* u, const qs8_dwconv_pack_params* pp) {
  if ((u->kh != 0 && u->kh != pp->kh) || (u->kw != 0 && u->kw != pp->kw)) return 0;
  if (u->max_k != 0 && (pp->kh > u->max_k || pp->kw > u->max_k)) return 0;
  if (!u->any_multiplier && pp->OC != pp->C) return 0;
  if (pp->double_rounding && !u->any_rounding) return 0;
  if (u->weights_127) {
    const size_t n = (size_t)pp->kh * pp->kw * pp->OC;
    for (size_t i = 0; i < n; i++)
      if (pp->weights[i] == INT8_MIN) return 0;
  }
  return 1;
}
