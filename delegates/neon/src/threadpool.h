/* A small persistent thread pool for the delegate's num_threads option: parallel_for over coarse tasks. */
#ifndef EDGELIFT_THREADPOOL_H
#define EDGELIFT_THREADPOOL_H

#include <stddef.h>

typedef struct el_pool el_pool;
typedef void (*el_task_fn)(void* ctx, size_t task);

/* threads: total workers including the caller; NULL (run inline) when threads <= 1 or on failure. */
el_pool* el_pool_create(int threads);
void el_pool_destroy(el_pool* pool);
int el_pool_threads(const el_pool* pool);
/* Runs fn(ctx, 0..n_tasks-1) across the pool and the calling thread; returns when all are done. */
void el_parallel_for(el_pool* pool, size_t n_tasks, el_task_fn fn, void* ctx);

#endif
