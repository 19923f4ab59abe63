/* A qemu TCG plugin that counts executed instructions per translation block inside marked regions.
 *
 * Every translated block gets one inline 64-bit counter (qemu adds 1 each time the block starts; no callback,
 * so the guest runs at nearly full emulation speed) and a copy of its instruction bytes. The guest marks
 * regions with a system call that fails harmlessly (lseek(-1, code, EL_MARK_WHENCE); see
 * delegates/neon/src/profile_marker.h): at every marker the counts since the previous marker go to the
 * innermost open region, so a region's tally is exact and identical run to run. Tallies are kept per
 * (outermost, innermost) open region: a region the guest marks inside an inference (a delegate's node) is told
 * apart from the same region marked outside one (a warm-up run). Nothing outside a region is reported.
 *
 * Usage: qemu-aarch64 -plugin count_blocks.so,out=FILE ...   (one guest thread: counters are not atomic)
 * FILE, written at exit (text):
 *   edgelift-count 1
 *   markers <n> unbalanced <n>
 *   B <id> <vaddr hex> <instructions> <bytes hex>     one per block that ran inside a region
 *   C <id> <outer hex> <inner hex> <executions>       one per block and (outermost, innermost) region
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = EL_QEMU_PLUGIN_VERSION;

#define AARCH64_NR_LSEEK 62
#define EL_MARK_WHENCE 0x454c4d4bu
#define EL_MARK_BEGIN 1u
#define EL_MARK_END 2u
#define MAX_DEPTH 16

typedef struct tally {
  uint64_t region; /* outermost << 32 | innermost */
  uint64_t count;
} tally;

typedef struct block {
  uint64_t count; /* incremented inline by qemu on every execution */
  uint64_t seen;  /* count at the last marker */
  uint64_t vaddr;
  uint32_t n_insns;
  uint32_t size;
  unsigned char* bytes;
  tally* tallies;
  uint32_t n_tallies, cap_tallies;
  struct block* next;
} block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static block* blocks;
static char* out_path;
static uint32_t stack[MAX_DEPTH];
static int depth;
static uint64_t markers, unbalanced;
static int out_of_memory;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  block* b = calloc(1, sizeof *b);
  size_t size = 0;
  for (size_t i = 0; i < n; i++) size += qemu_plugin_insn_size(qemu_plugin_tb_get_insn(tb, i));
  unsigned char* bytes = malloc(size ? size : 1);
  if (b == NULL || bytes == NULL) {
    free(b);
    free(bytes);
    out_of_memory = 1;
    return;
  }
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    const struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    const size_t len = qemu_plugin_insn_size(insn);
    memcpy(bytes + off, qemu_plugin_insn_data(insn), len);
    off += len;
  }
  b->vaddr = qemu_plugin_tb_vaddr(tb);
  b->n_insns = (uint32_t)n;
  b->size = (uint32_t)size;
  b->bytes = bytes;
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->count, 1);
  pthread_mutex_lock(&lock);
  b->next = blocks;
  blocks = b;
  pthread_mutex_unlock(&lock);
}

static void add_tally(block* b, uint64_t region, uint64_t count) {
  for (uint32_t i = 0; i < b->n_tallies; i++)
    if (b->tallies[i].region == region) {
      b->tallies[i].count += count;
      return;
    }
  if (b->n_tallies == b->cap_tallies) {
    const uint32_t cap = b->cap_tallies ? 2 * b->cap_tallies : 4;
    tally* t = realloc(b->tallies, cap * sizeof *t);
    if (t == NULL) {
      out_of_memory = 1;
      return;
    }
    b->tallies = t;
    b->cap_tallies = cap;
  }
  b->tallies[b->n_tallies++] = (tally){region, count};
}

/* Gives every block's executions since the last marker to the open regions (none: dropped). */
static void flush(void) {
  const uint64_t region = depth > 0 ? (uint64_t)stack[0] << 32 | stack[depth - 1] : 0;
  for (block* b = blocks; b != NULL; b = b->next) {
    const uint64_t now = b->count;
    if (now != b->seen && depth > 0) add_tally(b, region, now - b->seen);
    b->seen = now;
  }
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                       uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8) {
  (void)id, (void)vcpu, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
  /* fd is an int: only its low 32 bits are defined in the register, as for whence */
  if (num != AARCH64_NR_LSEEK || (uint32_t)a1 != 0xffffffffu || (uint32_t)a3 != EL_MARK_WHENCE) return;
  const uint32_t what = (uint32_t)(a2 >> 32), region = (uint32_t)a2;
  pthread_mutex_lock(&lock);
  markers++;
  flush();
  if (what == EL_MARK_BEGIN && depth < MAX_DEPTH) {
    stack[depth++] = region;
  } else if (what == EL_MARK_END && depth > 0 && stack[depth - 1] == region) {
    depth--;
  } else {
    unbalanced++;
  }
  pthread_mutex_unlock(&lock);
}

static void on_guest_exit(qemu_plugin_id_t id, void* userdata) {
  (void)id, (void)userdata;
  pthread_mutex_lock(&lock);
  flush();
  FILE* f = fopen(out_path, "w");
  if (f == NULL) {
    fprintf(stderr, "edgelift count plugin: cannot write %s\n", out_path);
    pthread_mutex_unlock(&lock);
    return;
  }
  fprintf(f, "edgelift-count 1\nmarkers %" PRIu64 " unbalanced %" PRIu64 " open %d oom %d\n", markers, unbalanced,
          depth, out_of_memory);
  uint64_t id_ = 0;
  for (block* b = blocks; b != NULL; b = b->next, id_++) {
    if (b->n_tallies == 0) continue;
    fprintf(f, "B %" PRIu64 " %" PRIx64 " %u ", id_, b->vaddr, b->n_insns);
    for (uint32_t i = 0; i < b->size; i++) fprintf(f, "%02x", b->bytes[i]);
    fputc('\n', f);
    for (uint32_t i = 0; i < b->n_tallies; i++)
      fprintf(f, "C %" PRIu64 " %x %x %" PRIu64 "\n", id_, (uint32_t)(b->tallies[i].region >> 32),
              (uint32_t)b->tallies[i].region, b->tallies[i].count);
  }
  fclose(f);
  pthread_mutex_unlock(&lock);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc, char** argv) {
  if (info->target_name == NULL || strcmp(info->target_name, "aarch64") != 0) {
    fprintf(stderr, "edgelift count plugin: built for aarch64 guests, not %s\n",
            info->target_name ? info->target_name : "?");
    return -1;
  }
  for (int i = 0; i < argc; i++)
    if (strncmp(argv[i], "out=", 4) == 0) out_path = strdup(argv[i] + 4);
  if (out_path == NULL) {
    fprintf(stderr, "edgelift count plugin: missing argument out=FILE\n");
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
  qemu_plugin_register_atexit_cb(id, on_guest_exit, NULL);
  return 0;
}
