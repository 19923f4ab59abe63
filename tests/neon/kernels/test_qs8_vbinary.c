/* Standalone test of every int8 ADD / MUL microkernel compiled for this architecture (qs8_vbinary_ukernels).
 *
 * Oracle: a plain loop over each call with the builtin's rule for the element's position (vector body or tail,
 * elementwise or scalar broadcast), written here from requantize.h's shared functions, zero tolerance. Every
 * one of the 65,536 int8 pairs goes through every function, as one long call (all body) and cut into calls of
 * 256 (a scalar-broadcast call: one a, every b), 1, 7, 8, 9, 15, 16, 17, 31 and 33 elements (the body/tail edges of the 8- and 16-wide bodies), over
 * parameter sets from real scales: equal and 100x-apart input scales, zero points at -128 and 127, RELU6-like
 * and no clamps, MUL multipliers with a left shift (output scale below the product), none and right shifts.
 * Inputs and output of every call end flush against a PROT_NONE page (an over-read or over-write faults).
 *
 * Output (parsed by tests/neon/test_vbinary_kernels.py):
 *   MUL_SHIFTS left <l> none <n> right <r>   how many sets have each sign of MUL's output shift
 *   PATHS <fn> body_vs_tail_differ <d>   pairs (over all sets) where the body's and the tail's rules differ
 *   RUN <variant> <fn> calls <c> outputs <o> mismatches <x>
 *   SKIP <variant> needs 0x<hex> cpu 0x<hex>   a variant this CPU lacks the features of
 *   MISMATCH <variant> <fn> set <s> n <n> [i] a A b B expected E got G
 *   RESULT PASS | RESULT FAIL
 * Option: --corrupt  flips the low bit of one input element of the kernel's copy per call (must then FAIL). */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qs8_gemm.h" /* el_cpu_features */
#include "qs8_vbinary.h"
#include "requantize.h"

/* `size` bytes ending exactly where a PROT_NONE page begins */
static int8_t* guarded(size_t size) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t pages = (size + page - 1) / page;
  uint8_t* base = mmap(NULL, (pages + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED || mprotect(base + pages * page, page, PROT_NONE) != 0) {
    perror("mmap");
    exit(2);
  }
  return (int8_t*)(base + pages * page - size);
}

typedef struct scales {
  float sa, sb, so;
  int32_t za, zb, zo;
  int relu6; /* clamp to [zo, zo + 6 / so] like a fused RELU6, else [-128, 127] */
} scales;

static const scales SETS[] = {
    {0.05f, 0.05f, 0.1f, 0, 0, 0, 0},
    {0.02f, 0.07f, 0.09f, -128, 127, -3, 0},    /* zero points at the extremes */
    {0.5f, 0.005f, 0.25f, 5, -7, 127, 0},       /* input scales 100x apart */
    {0.031f, 0.043f, 0.052f, -17, 33, -128, 1}, /* a RELU6-like clamp */
    {0.1f, 0.1f, 0.001f, 3, -4, 10, 0},         /* MUL: real multiplier 10 (a left shift); ADD refuses it */
    {0.0078125f, 0.023529f, 0.019607f, -128, -128, -128, 0}, /* a squeeze-excite MUL: sigmoid x activation */
    {0.004f, 0.003f, 0.2f, 100, -100, 0, 1},
    {0.1f, 0.1f, 0.0125f, 2, -5, 7, 0}, /* MUL: real multiplier 0.8, shift 0 (neither left nor right) */
};
enum { NSETS = sizeof(SETS) / sizeof(SETS[0]) };

/* the params the op computes at prepare (ops/elementwise.c), or 0 where the op refuses the node */
static int params_of(const scales* s, int add, qs8_vbinary_params* p) {
  memset(p, 0, sizeof(*p));
  p->a_offset = -s->za, p->b_offset = -s->zb, p->out_zero_point = s->zo;
  p->act_min = s->relu6 ? s->zo : -128;
  p->act_max = s->relu6 ? el_clamp(s->zo + (int32_t)lround(6.0 / s->so), -128, 127) : 127;
  if (add) {
    const double twice_max = 2.0 * (double)(s->sa > s->sb ? s->sa : s->sb);
    el_quantize_multiplier((double)s->sa / twice_max, &p->a_multiplier, &p->a_shift);
    el_quantize_multiplier((double)s->sb / twice_max, &p->b_multiplier, &p->b_shift);
    el_quantize_multiplier(twice_max / ((double)(1 << 20) * (double)s->so), &p->out_multiplier, &p->out_shift);
    return p->out_shift <= 0;
  }
  const float real = s->sa * s->sb / s->so;
  el_quantize_multiplier((double)real, &p->out_multiplier, &p->out_shift);
  return 1;
}

/* ---- the oracle: one output of a call, by kind and by position ---- */
enum kind { ADD, ADDC, MUL, MULC };
static const char* const KIND_NAMES[] = {"add", "addc", "mul", "mulc"};

static int32_t sat(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static int32_t vshl(int32_t x, int s) { return s >= 0 ? (int32_t)((uint32_t)x << s) : x >> -s; }

static int8_t oracle(enum kind k, const qs8_vbinary_params* p, size_t n, size_t i, int8_t a, int8_t b) {
  const size_t body = k == ADDC ? n / 8 * 8 : n / 16 * 16;
  const int in_body = i < body;
  const int32_t xa = p->a_offset + a, xb = p->b_offset + b;
  int32_t v;
  if (k == MUL || k == MULC) {
    v = el_requantize(xa * xb, p->out_multiplier, p->out_shift);
    if (in_body) v = sat(v, INT16_MIN, INT16_MAX); /* vqmovn to int16 */
  } else {
    int32_t ra, rb;
    if (!in_body) {
      ra = el_requantize(xa * (1 << 20), p->a_multiplier, p->a_shift);
      rb = el_requantize(xb * (1 << 20), p->b_multiplier, p->b_shift);
    } else if (k == ADD) {
      ra = el_srdhm(vshl(xa, 20 + p->a_shift), p->a_multiplier);
      rb = el_srdhm(vshl(xb, 20 + p->b_shift), p->b_multiplier);
    } else {
      ra = el_srdhm(xa * (1 << 20), p->a_multiplier) >> -p->a_shift;
      rb = el_srdhm(xb * (1 << 20), p->b_multiplier) >> -p->b_shift;
    }
    v = el_requantize(ra + rb, p->out_multiplier, p->out_shift);
    if (in_body) v = (int16_t)(uint16_t)(uint32_t)v; /* vmovn to int16 */
  }
  if (in_body) v = sat((int16_t)(uint16_t)(uint32_t)(v + p->out_zero_point), -128, 127);
  else v += p->out_zero_point;
  return (int8_t)sat(v, p->act_min, p->act_max);
}

static const size_t CALL_SIZES[] = {65536, 256, 1, 7, 8, 9, 15, 16, 17, 31, 33};
enum { NSIZES = sizeof(CALL_SIZES) / sizeof(CALL_SIZES[0]) };

static int printed = 0;

/* all 65,536 pairs through `fn` in calls of n; c calls: a is the broadcast scalar of each call (pairs ordered
 * so each call has one a). Returns mismatches. */
static size_t run_kind(const qs8_vbinary_ukernel* u, enum kind k, int set, const qs8_vbinary_params* p, size_t n,
                       int corrupt, size_t* calls, size_t* outputs) {
  static int8_t* bufs[NSIZES][3];
  size_t slot = 0;
  while (CALL_SIZES[slot] != n) slot++;
  if (bufs[slot][0] == NULL)
    for (int j = 0; j < 3; j++) bufs[slot][j] = guarded(n);
  int8_t *ga = bufs[slot][0], *gb = bufs[slot][1], *gy = bufs[slot][2];
  size_t bad = 0;
  for (int a0 = 0; a0 < 256; a0++) {
    /* c calls: one a per call, b over its 256 values in calls of n; elementwise calls too cover them in order */
    for (size_t start = 0; start < 256; start += n) {
      const size_t m = start + n <= 256 ? n : (n > 256 ? 256 : 256 - start);
      if (n > 256 && a0 > 0) break; /* the one long call takes all pairs at once, below */
      const size_t total = n > 256 ? 65536 : m;
      int8_t* xa = ga + (n - total);
      int8_t* xb = gb + (n - total);
      int8_t* y = gy + (n - total);
      for (size_t i = 0; i < total; i++) {
        const size_t pair = n > 256 ? i : (size_t)a0 * 256 + start + i;
        xa[i] = (int8_t)((int)(pair >> 8) - 128);
        xb[i] = (int8_t)((int)(pair & 255) - 128);
      }
      const int8_t a_scalar = xa[0];
      if (corrupt) xb[total / 2] ^= 1;
      switch (k) {
        case ADD: u->add(p, total, xa, xb, y); break;
        case ADDC: u->addc(p, total, a_scalar, xb, y); break;
        case MUL: u->mul(p, total, xa, xb, y); break;
        case MULC: u->mulc(p, total, a_scalar, xb, y); break;
      }
      if (corrupt) xb[total / 2] ^= 1;
      (*calls)++;
      for (size_t i = 0; i < total; i++) {
        const int8_t want = oracle(k, p, total, i, xa[i], xb[i]);
        (*outputs)++;
        if (y[i] != want) {
          bad++;
          if (printed++ < 20)
            printf("MISMATCH %s %s set %d n %zu [%zu] a %d b %d expected %d got %d\n", u->name, KIND_NAMES[k], set,
                   total, i, xa[i], xb[i], want, y[i]);
        }
      }
      if (n > 256) break;
    }
  }
  return bad;
}

/* how many (set, pair) the body's rule and the tail's rule round apart: the sets must tell the paths apart */
static size_t paths_differ(enum kind k) {
  size_t differ = 0;
  for (int set = 0; set < NSETS; set++) {
    qs8_vbinary_params p;
    if (!params_of(&SETS[set], k == ADD || k == ADDC, &p)) continue;
    for (int pair = 0; pair < 65536; pair++) {
      const int8_t a = (int8_t)((pair >> 8) - 128), b = (int8_t)((pair & 255) - 128);
      differ += oracle(k, &p, 16, 0, a, b) != oracle(k, &p, 1, 0, a, b);
    }
  }
  return differ;
}

int main(int argc, char** argv) {
  const int corrupt = argc > 1 && strcmp(argv[1], "--corrupt") == 0;
  int fail = 0;
  int kinds[3] = {0, 0, 0}; /* MUL output shifts > 0, 0, < 0 among the sets: each has its own NEON loop */
  for (int set = 0; set < NSETS; set++) {
    qs8_vbinary_params p;
    params_of(&SETS[set], 0, &p);
    kinds[p.out_shift > 0 ? 0 : p.out_shift == 0 ? 1 : 2]++;
  }
  printf("MUL_SHIFTS left %d none %d right %d\n", kinds[0], kinds[1], kinds[2]);
  for (int k = ADD; k <= MULC; k++) printf("PATHS %s body_vs_tail_differ %zu\n", KIND_NAMES[k], paths_differ(k));
  for (const qs8_vbinary_ukernel* u = qs8_vbinary_ukernels; u->name != NULL; u++) {
    if (u->required_features & ~el_cpu_features()) {
      printf("SKIP %s needs 0x%x cpu 0x%x\n", u->name, u->required_features, el_cpu_features());
      continue;
    }
    for (int k = ADD; k <= MULC; k++) {
      size_t calls = 0, outputs = 0, bad = 0;
      for (int set = 0; set < NSETS; set++) {
        qs8_vbinary_params p;
        if (!params_of(&SETS[set], k == ADD || k == ADDC, &p)) continue;
        for (int s = 0; s < NSIZES; s++) {
          if ((k == ADDC || k == MULC) && CALL_SIZES[s] > 256) continue; /* one scalar a per call */
          bad += run_kind(u, (enum kind)k, set, &p, CALL_SIZES[s], corrupt, &calls, &outputs);
        }
      }
      printf("RUN %s %s calls %zu outputs %zu mismatches %zu\n", u->name, KIND_NAMES[k], calls, outputs, bad);
      if (bad != 0 || outputs == 0) fail = 1;
    }
  }
  printf("RESULT %s\n", fail ? "FAIL" : "PASS");
  return fail;
}
