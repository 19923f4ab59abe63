/* A guest with known instruction counts for the cost meter's tests: `marked_loop N M` runs a 2-instruction loop
 * N times outside any region, then inside region 0x01000005 an inner region 0x02000007 around M iterations and
 * M more iterations directly in the outer region, then one empty region 0x01000006. argv[3] == "unbalanced"
 * leaves the outer region open. Static, so no dynamic loader runs under qemu. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../delegates/neon/src/profile_marker.h"

static void spin(uint64_t n) {
  if (n == 0) return;
  __asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n));
}

int main(int argc, char** argv) {
  const uint64_t outside = argc > 1 ? strtoull(argv[1], NULL, 10) : 0;
  const uint64_t inside = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
  spin(outside);
  el_mark(EL_MARK_BEGIN, 0x01000005u);
  el_mark(EL_MARK_BEGIN, 0x02000007u);
  spin(inside);
  el_mark(EL_MARK_END, 0x02000007u);
  spin(inside);
  if (argc > 3 && strcmp(argv[3], "unbalanced") == 0) return 0;
  el_mark(EL_MARK_END, 0x01000005u);
  el_mark(EL_MARK_BEGIN, 0x01000006u);
  el_mark(EL_MARK_END, 0x01000006u);
  return 0;
}
