/* Region markers for the Pi cost meter (edgelift.device.emulate): a harmless system call the meter's qemu
 * plugin recognises. lseek(-1, code, EL_MARK_WHENCE) fails with EBADF and changes nothing, so a marked binary
 * runs unchanged outside the meter; under it, `code` opens or closes a region that counts are attributed to.
 *   code = (EL_MARK_BEGIN | EL_MARK_END) << 32 | region;  region = class << 24 | index
 * The Python side (device/emulate/markers.py) and the plugin (device/emulate/plugin/count_blocks.c) use the
 * same numbers; tests/emulate pins them together. */
#ifndef EDGELIFT_PROFILE_MARKER_H
#define EDGELIFT_PROFILE_MARKER_H

#include <stdint.h>

#define EL_MARK_WHENCE 0x454c4d4b /* "ELMK" */
#define EL_MARK_BEGIN 1u
#define EL_MARK_END 2u
#define EL_MARK_CLASS_NODE 2u /* index: the TFLite node index of a delegated node */

#if defined(__linux__)
#include <errno.h>
#include <unistd.h>
static inline void el_mark(unsigned what, uint32_t region) {
  const int saved = errno;
  (void)lseek(-1, (off_t)(((uint64_t)what << 32) | region), EL_MARK_WHENCE);
  errno = saved;
}
#else
static inline void el_mark(unsigned what, uint32_t region) {
  (void)what;
  (void)region;
}
#endif

#endif
