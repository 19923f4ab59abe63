/* el_cpu_features(): what the CPU we run on offers the microkernels (see kernels/qs8_gemm.h). */
#include "kernels/qs8_gemm.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
unsigned el_cpu_features(void) {
  const unsigned long hw = getauxval(AT_HWCAP);
  unsigned f = 0;
  if (hw & HWCAP_ASIMD) f |= EL_CPU_NEON;
  if ((hw & HWCAP_ASIMD) && (hw & HWCAP_ASIMDDP)) f |= EL_CPU_DOTPROD;
  return f;
}
#else
unsigned el_cpu_features(void) { return 0; }
#endif
