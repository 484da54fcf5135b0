/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The store threads' table of jobs, shared by the two sides of it: the
 * requests queue jobs and wait for fetches (store_jobs.c), the child's
 * store threads run them (store_threads.c). Everything in it is read and
 * written under its lock.
 */

#ifndef PUSH_REDIRECT_STORE_THREADS_H
#define PUSH_REDIRECT_STORE_THREADS_H

#include "httpd.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#include "push_redirect.h"

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
