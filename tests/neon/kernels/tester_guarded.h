/* Buffers that end flush against a PROT_NONE page, for the kernel testers: a read or write one byte past the
 * end faults instead of passing unseen. */
#ifndef EDGELIFT_TESTER_GUARDED_H
#define EDGELIFT_TESTER_GUARDED_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct guarded {
  uint8_t* base;
  size_t map_size;
  uint8_t* data; /* `size` bytes, the last one just before the PROT_NONE page */
} guarded;

static guarded guarded_alloc(size_t size) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t data_pages = (size + page - 1) / page;
  guarded g;
  g.map_size = (data_pages + 1) * page;
  g.base = mmap(NULL, g.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g.base == MAP_FAILED) {
    perror("mmap");
    exit(2);
  }
  if (mprotect(g.base + data_pages * page, page, PROT_NONE) != 0) {
    perror("mprotect");
    exit(2);
  }
  g.data = g.base + data_pages * page - size;
  return g;
}

static void guarded_free(guarded g) { munmap(g.base, g.map_size); }

#endif
