/* el_cpu_features(): what the CPU we run on offers the microkernels (see kernels/qs8_gemm.h): AT_HWCAP on
 * aarch64, CPUID on x86-64. */
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
#elif defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
/* AVX2 needs the OS to save the YMM registers too (OSXSAVE, then XCR0 bits 1 and 2), not only the CPUID bit. */
unsigned el_cpu_features(void) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0, f = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  if (ecx & bit_SSE4_1) f |= EL_CPU_SSE41;
  const int osxsave = (ecx & bit_OSXSAVE) != 0 && (ecx & bit_AVX) != 0;
  unsigned xcr0 = 0;
  if (osxsave) {
    unsigned xcr0_hi = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0));
  }
  if (osxsave && (xcr0 & 6u) == 6u && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ebx & bit_AVX2))
    f |= EL_CPU_AVX2;
  return (f & EL_CPU_AVX2) && !(f & EL_CPU_SSE41) ? f & ~EL_CPU_AVX2 : f; /* AVX2 kernels use SSE4.1 too */
}
#else
unsigned el_cpu_features(void) { return 0; }
#endif
