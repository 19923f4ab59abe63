/* The BATCH_MATMUL kernels (see qs8_bmm.h): the shared RHS packing, the list of variants, the choice. */
#include <string.h>

#include "qs8_bmm.h"

void qs8_bmm_1x1__scalar(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                         int8_t* c, size_t c_stride, const qs8_bmm_params* p);
void qs8_bmm_4x4__scalar(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                         int8_t* c, size_t c_stride, const qs8_bmm_params* p);
#if defined(__aarch64__)
void qs8_bmm_4x4__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                            int8_t* c, size_t c_stride, const qs8_bmm_params* p);
#endif

void qs8_bmm_pack(size_t n, size_t k, const int8_t* b, size_t k_stride, size_t n_stride, int32_t a_zero_point,
                  int32_t b_zero_point, void* packed) {
  int32_t* col_term = (int32_t*)packed;
  int8_t* bt = (int8_t*)packed + n * sizeof(int32_t);
  for (size_t j = 0; j < n; j++) {
    int32_t sum = 0;
    for (size_t kk = 0; kk < k; kk++) {
      const int8_t v = b[kk * k_stride + j * n_stride];
      bt[j * k + kk] = v;
      sum += v;
    }
    col_term[j] = -a_zero_point * sum + (int32_t)k * a_zero_point * b_zero_point;
  }
}

/* best first; the reference twin last */
const qs8_bmm_ukernel qs8_bmm_ukernels[] = {
#if defined(__aarch64__)
    {"qs8_bmm_4x4__neon_mlal", qs8_bmm_4x4__neon_mlal}, /* every aarch64 CPU has NEON */
#endif
    {"qs8_bmm_4x4__scalar", qs8_bmm_4x4__scalar},
    {"qs8_bmm_1x1__scalar", qs8_bmm_1x1__scalar},
    {NULL, NULL},
};

/* forced "scalar": the reference twin (what a forced run compares against); "neon" / "dot" / auto: the best */
const qs8_bmm_ukernel* qs8_bmm_select(const char* forced) {
  if (forced != NULL && strcmp(forced, "scalar") == 0) {
    const qs8_bmm_ukernel* u = qs8_bmm_ukernels;
    while (u[1].name != NULL) u++;
    return u;
  }
  return &qs8_bmm_ukernels[0];
}
