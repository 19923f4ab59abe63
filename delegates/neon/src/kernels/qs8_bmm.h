/* The int8 matrix product of one BATCH_MATMUL batch matrix, shared by the reference and the tiled variants.
 *
 *   acc[i][j] = sum_k (a[i][k] - a_zero_point) * (b[k][j] - b_zero_point)
 *   c[i][j]   = clamp(out_zero_point + el_requantize(acc[i][j], multiplier, shift), -128, 127)
 *
 * Both operands carry a zero point (two activations), and LiteRT 2.3's builtin BATCH_MATMUL rescales with
 * gemmlowp's double rounding (el_requantize of ../requantize.h), where the qs8 GEMM kernels of CONV_2D and
 * FULLY_CONNECTED take symmetric weights and round like ruy; hence a kernel of its own, not those.
 * The product is expanded so the inner loop multiplies raw int8 values:
 *   acc = sum_k a*b - b_zero_point * rowsum(a)[i] + col[j],  col[j] = -a_zero_point * colsum(b)[j] + k * a_zp * b_zp
 * `qs8_bmm_pack` stores col[] and b transposed to [n][k] (one output column's depth contiguous); it runs once at
 * prepare for a constant RHS and per invoke otherwise. Every term stays inside int32 for k <= QS8_BMM_MAX_K.
 */
#ifndef EDGELIFT_QS8_BMM_H
#define EDGELIFT_QS8_BMM_H

#include <stddef.h>
#include <stdint.h>

#define QS8_BMM_MAX_K 32768 /* 4 * 2^14 * k < 2^31: no partial sum of the expansion overflows int32 */

typedef struct qs8_bmm_params {
  int32_t multiplier; /* per tensor */
  int32_t shift;      /* TFLite convention: > 0 shifts left */
  int32_t a_zero_point; /* the tiled variant finds it folded into the packed column terms */
  int32_t b_zero_point;
  int32_t out_zero_point;
} qs8_bmm_params;

/* Bytes qs8_bmm_pack writes for an n x k RHS (a multiple of 16, so packed matrices can sit back to back). */
static inline size_t qs8_bmm_packed_size(size_t n, size_t k) { return (n * sizeof(int32_t) + n * k + 15) & ~(size_t)15; }

/* b: element (kk, j) of the k x n RHS at b[kk * k_stride + j * n_stride] (adj_y: k_stride 1, n_stride k). */
void qs8_bmm_pack(size_t n, size_t k, const int8_t* b, size_t k_stride, size_t n_stride, int32_t a_zero_point,
                  int32_t b_zero_point, void* packed);

/* a: [m][k] rows a_stride bytes apart; c: [m][n] rows c_stride bytes apart; m, n, k >= 1, k <= QS8_BMM_MAX_K. */
typedef void (*qs8_bmm_run_fn)(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                               int8_t* c, size_t c_stride, const qs8_bmm_params* p);

typedef struct qs8_bmm_ukernel {
  const char* name; /* <dtype>_<op>_<tile>__<arch> */
  qs8_bmm_run_fn run;
} qs8_bmm_ukernel;

/* A 4-row tile's rows of a (the last real row repeated past m) and each row's zero-point term
 * -b_zero_point * sum(row): the part both 4x4 variants share. */
static inline void qs8_bmm_tile_rows(const int8_t* a, size_t a_stride, size_t i0, size_t mr, size_t k,
                                     int32_t b_zero_point, const int8_t* ar[4], int32_t row_term[4]) {
  for (size_t r = 0; r < 4; r++) {
    ar[r] = a + (i0 + (r < mr ? r : mr - 1)) * a_stride;
    int32_t sum = 0;
    for (size_t kk = 0; kk < k; kk++) sum += ar[r][kk];
    row_term[r] = -b_zero_point * sum;
  }
}

/* Every variant, the one dispatch picks first; terminated by name == NULL. */
extern const qs8_bmm_ukernel qs8_bmm_ukernels[];

/* forced "scalar" = the 1x1 reference twin; anything else = the best tiled variant (NEON on aarch64). */
const qs8_bmm_ukernel* qs8_bmm_select(const char* forced);

#endif
