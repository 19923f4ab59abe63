/* Standalone test of every table-lookup variant compiled for this architecture (x8_lut_ukernels).
 *
 * Oracle: lut[(uint8_t)x] in a plain loop, zero tolerance. Every one of the 256 input values at every position
 * of a 16-lane step (inputs 0..255 rotated), random inputs, sizes on the 16-wide step's edges (1, 15, 16, 17,
 * 31, 32, 33, 255, 256, 4099), tables random and the identity; inputs and output end flush against a
 * PROT_NONE page (an over-read or over-write faults).
 *
 * Output (parsed by tests/neon/test_lut_kernels.py):
 *   RUN <variant> calls <c> outputs <o> mismatches <x>
 *   MISMATCH <variant> n <n> [i] x X expected E got G
 *   RESULT PASS | RESULT FAIL
 * Option: --corrupt  flips one table entry in the kernel's copy per call (the test must then FAIL). */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "x8_lut.h"

#define TESTER_SEED 0x2545F4914F6CDD1Dull
#include "tester_rng.h"

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

static const size_t SIZES[] = {1, 15, 16, 17, 31, 32, 33, 255, 256, 4099};
enum { NSIZES = sizeof(SIZES) / sizeof(SIZES[0]) };

int main(int argc, char** argv) {
  const int corrupt = argc > 1 && strcmp(argv[1], "--corrupt") == 0;
  int fail = 0, printed = 0;
  for (const x8_lut_ukernel* u = x8_lut_ukernels; u->name != NULL; u++) {
    size_t calls = 0, outputs = 0, bad = 0;
    for (int table = 0; table < 4; table++) {
      int8_t lut[256], kernel_lut[256];
      for (int v = 0; v < 256; v++) lut[v] = (int8_t)(table == 0 ? v : (int)(rnd() & 255));
      for (int s = 0; s < NSIZES; s++) {
        const size_t n = SIZES[s];
        for (int fill = 0; fill < 17; fill++) { /* 0..15: values 0..255 from offset fill; 16: random */
          int8_t* x = guarded(n);
          int8_t* y = guarded(n);
          for (size_t i = 0; i < n; i++) x[i] = (int8_t)(fill < 16 ? (i + (size_t)fill) & 255 : (rnd() & 255));
          memcpy(kernel_lut, lut, sizeof(lut));
          if (corrupt) kernel_lut[(uint8_t)x[n / 2]] ^= 1;
          u->lookup(n, x, kernel_lut, y);
          calls++;
          for (size_t i = 0; i < n; i++) {
            const int8_t want = lut[(uint8_t)x[i]];
            outputs++;
            if (y[i] != want) {
              bad++;
              if (printed++ < 20)
                printf("MISMATCH %s n %zu [%zu] x %d expected %d got %d\n", u->name, n, i, x[i], want, y[i]);
            }
          }
          const size_t page = (size_t)sysconf(_SC_PAGESIZE);
          munmap((void*)((uintptr_t)x & ~(uintptr_t)(page - 1)), ((n + page - 1) / page + 1) * page);
          munmap((void*)((uintptr_t)y & ~(uintptr_t)(page - 1)), ((n + page - 1) / page + 1) * page);
        }
      }
    }
    printf("RUN %s calls %zu outputs %zu mismatches %zu\n", u->name, calls, outputs, bad);
    if (bad != 0 || outputs == 0) fail = 1;
  }
  printf("RESULT %s\n", fail ? "FAIL" : "PASS");
  return fail;
}
