/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The store threads, which alone call a provider that can hang, and their
 * table of jobs, shared by the two sides of it: the requests queue jobs
 * and wait for fetches (store_jobs.c), the child's store threads run them
 * (store_threads.c). Everything in the table is read and written under
 * its lock.
 */

#ifndef PUSH_REDIRECT_STORE_THREADS_H
#define PUSH_REDIRECT_STORE_THREADS_H

#include "httpd.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#include "push_redirect.h"

/* Started from child_init (hint_store.c); stopped with `pchild`. */
apr_status_t store_threads_start(apr_pool_t *pchild, server_rec *s,
                                 const char *name,
                                 const push_redirect_write_budget *budget);
/* A fetch by the store threads, waited for a bounded time: unanswered
 * when no slot was free or the wait ended first (store_jobs.c). */
push_redirect_fetched store_threads_fetch(const unsigned char *key,
                                          unsigned char *buf,
                                          unsigned int *len);
/* A store queued for the store threads, a remove when `data` is NULL;
 * dropped when none can take it (false). */
int store_threads_store(const unsigned char *key, const unsigned char *data,
                        unsigned int len, apr_time_t expiry);

/* The table, for its two sides alone. */
#define THREADS 2
#define SLOTS 8

enum state { FREE, QUEUED, RUNNING, FETCHED, ABANDONED }; /* DONE: httpd's */

typedef struct {
    enum state state;
    int fetch;            /* else a store, which nobody waits for */
    int remove;           /* a store that removes */
    apr_uint64_t order;   /* first queued, first run */
    apr_time_t started;   /* running since */
    apr_uint64_t epoch;   /* the store's epoch then */
    apr_time_t expiry;    /* a store's */
    apr_status_t rv;
    unsigned int len;
    unsigned char key[PUSH_REDIRECT_KEY_LEN];
    unsigned char data[PUSH_REDIRECT_FETCH_BUF_LEN];
} slot_t;

struct store_threads {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *work; /* a job queued, the store backed off, stop */
    apr_thread_cond_t *done; /* a fetch done */
    apr_thread_t *threads[THREADS];
    apr_pool_t *pools[THREADS];
    int busy[THREADS];       /* in a call of the provider */
    int probing, stopping;
    apr_uint64_t queued;
    server_rec *s;
    const char *name;
    const push_redirect_write_budget *budget;
    slot_t slots[SLOTS];
};

/* This child's, made by store_threads_start (NULL before). */
extern struct store_threads *store_threads;

#endif /* PUSH_REDIRECT_STORE_THREADS_H */
