#include "threadpool.h"

#include <pthread.h>
#include <stdlib.h>

struct el_pool {
  int n_workers;
  pthread_t* threads;
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  pthread_mutex_t call; /* one parallel_for at a time (interpreters may share a delegate) */
  el_task_fn fn;
  void* ctx;
  size_t n_tasks, next, finished;
  unsigned generation;
  int stop;
};

static void run_tasks(el_pool* p) {
  for (;;) {
    pthread_mutex_lock(&p->mu);
    if (p->next >= p->n_tasks) {
      pthread_mutex_unlock(&p->mu);
      return;
    }
    const size_t t = p->next++;
    pthread_mutex_unlock(&p->mu);
    p->fn(p->ctx, t);
    pthread_mutex_lock(&p->mu);
    if (++p->finished == p->n_tasks) pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->mu);
  }
}

static void* worker(void* arg) {
  el_pool* p = (el_pool*)arg;
  unsigned seen = 0;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->generation == seen) pthread_cond_wait(&p->work, &p->mu);
    if (p->stop) {
      pthread_mutex_unlock(&p->mu);
      return NULL;
    }
    seen = p->generation;
    pthread_mutex_unlock(&p->mu);
    run_tasks(p);
  }
}

el_pool* el_pool_create(int threads) {
  if (threads <= 1) return NULL;
  el_pool* p = (el_pool*)calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->threads = (pthread_t*)calloc((size_t)threads - 1, sizeof(pthread_t));
  if (p->threads == NULL) {
    free(p);
    return NULL;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_mutex_init(&p->call, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->done, NULL);
  for (int i = 0; i < threads - 1; i++) {
    if (pthread_create(&p->threads[i], NULL, worker, p) != 0) break;
    p->n_workers++;
  }
  return p;
}

void el_pool_destroy(el_pool* p) {
  if (p == NULL) return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->n_workers; i++) pthread_join(p->threads[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&p->call);
  pthread_cond_destroy(&p->work);
  pthread_cond_destroy(&p->done);
  free(p->threads);
  free(p);
}

int el_pool_threads(const el_pool* p) { return p ? p->n_workers + 1 : 1; }

void el_parallel_for(el_pool* p, size_t n_tasks, el_task_fn fn, void* ctx) {
  if (p == NULL || p->n_workers == 0 || n_tasks <= 1) {
    for (size_t t = 0; t < n_tasks; t++) fn(ctx, t);
    return;
  }
  pthread_mutex_lock(&p->call);
  pthread_mutex_lock(&p->mu);
  p->fn = fn, p->ctx = ctx, p->n_tasks = n_tasks, p->next = 0, p->finished = 0;
  p->generation++;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  run_tasks(p);
  pthread_mutex_lock(&p->mu);
  while (p->finished < p->n_tasks) pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
  pthread_mutex_unlock(&p->call);
}
