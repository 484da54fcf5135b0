/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The store threads: a provider that can hang (memcache, redis: see
 * docs/directives.md, PushRedirectEarlyHintsCache) is called only by
 * THREADS threads per child, each with a pool of its own cleared after
 * each call, from a fixed table of SLOTS jobs. A request queues a fetch
 * and waits at most WAIT_MS for it; a full table or an expired wait is a
 * miss. A write is queued, never waited for. A job still queued when its
 * waiter gives up is dropped; one running is abandoned, and its thread
 * frees the slot when the call returns. A call running past STALL_MS
 * backs the store off (the child's write budget keeps that):
 * requests skip it, no wait and no write, until a free store thread's
 * probe, one at a time when the budget says one is due, finds it
 * answering. shmcb and dbm are not called here (hint_store.c).
 *
 * An exiting child joins only the threads not in a call: one that is may
 * return before the process is gone, so what they use is not pchild's
 * (destroyed before the exit) but a pool that lives as long as the process.
 */

#include "push_redirect_private.h"
#include "hint_store.h"
#include "http_log.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

APLOG_USE_MODULE(push_redirect);

#define THREADS 2
#define SLOTS 8
#define WAIT_MS 50   /* a request's wait for a fetch */
#define STALL_MS 100 /* a call running longer has hung */
/* How often a free thread looks for a due probe while the store is backed
 * off (else they sleep until a job comes). */
#define PROBE_TICK apr_time_from_msec(250)

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

static struct {
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
} *st;

/* Backs off the store a call begun at `epoch` found not answering in `ms`
 * (one warning); the threads then wait for probes. Under the lock. */
static void hung(apr_uint64_t epoch, const char *what, int ms)
{
    if (push_redirect_write_budget_fail(st->budget, epoch)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, st->s, PRLOGNO(0112)
                     "hint store %s: a %s did not answer within %d ms; not "
                     "used until it answers again", st->name, what, ms);
        push_redirect_counts_backoff(0);
        apr_thread_cond_broadcast(st->work);
    }
}

/* Queues a job in a free slot, if the store is usable and no call in
 * flight has stalled since it became so; NULL otherwise. Under the lock. */
static slot_t *queue(int fetch, const unsigned char *key)
{
    apr_time_t stalled = apr_time_now() - apr_time_from_msec(STALL_MS);
    slot_t *slot, *empty = NULL;

    for (slot = st->slots; slot < st->slots + SLOTS; slot++) {
        /* A fetch its waiter gave up on is still a call in flight. */
        if ((slot->state == RUNNING || slot->state == ABANDONED)
            && slot->started < stalled) {
            hung(slot->epoch, slot->fetch ? "fetch" : "store", STALL_MS);
        }
        if (slot->state == FREE && !empty) {
            empty = slot;
        }
    }
    if (!empty || !push_redirect_write_budget_usable(st->budget)) {
        return NULL;
    }
    empty->state = QUEUED;
    empty->fetch = fetch;
    empty->remove = 0;
    empty->order = ++st->queued;
    memcpy(empty->key, key, PUSH_REDIRECT_KEY_LEN);
    apr_thread_cond_signal(st->work);
    return empty;
}

push_redirect_fetched store_threads_fetch(const unsigned char *key,
                                          unsigned char *buf,
                                          unsigned int *len)
{
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(WAIT_MS), now;
    push_redirect_fetched fetched = PUSH_REDIRECT_FETCHED_UNANSWERED;
    slot_t *slot;

    apr_thread_mutex_lock(st->lock);
    if ((slot = queue(1, key))) {
        while (slot->state != FETCHED && (now = apr_time_now()) < deadline) {
            apr_thread_cond_timedwait(st->done, st->lock, deadline - now);
        }
        if (slot->state == FETCHED) {
            fetched = hint_store_fetched(slot->rv);
            if (fetched == PUSH_REDIRECT_FETCHED_FOUND && slot->len > *len) {
                fetched = PUSH_REDIRECT_FETCHED_MISS;
            }
            if (fetched == PUSH_REDIRECT_FETCHED_FOUND) {
                memcpy(buf, slot->data, slot->len);
                *len = slot->len;
            }
            slot->state = FREE;
        }
        else {
            /* A miss, not yet a hang: under load a fetch may wait behind
             * others, and a call that has hung is found by the next
             * queue() once it has run STALL_MS. */
            slot->state = slot->state == QUEUED ? FREE : ABANDONED;
        }
    }
    apr_thread_mutex_unlock(st->lock);
    return fetched;
}

int store_threads_store(const unsigned char *key, const unsigned char *data,
                        unsigned int len, apr_time_t expiry)
{
    slot_t *slot = NULL;

    apr_thread_mutex_lock(st->lock); /* filled before a thread can take it */
    if (len <= PUSH_REDIRECT_FETCH_BUF_LEN && (slot = queue(0, key))) {
        if (data) {
            memcpy(slot->data, data, len);
        }
        slot->remove = !data;
        slot->len = len;
        slot->expiry = expiry;
    }
    apr_thread_mutex_unlock(st->lock);
    return slot != NULL;
}

static slot_t *next_job(void)
{
    slot_t *slot, *next = NULL;

    for (slot = st->slots; slot < st->slots + SLOTS; slot++) {
        if (slot->state == QUEUED && (!next || slot->order < next->order)) {
            next = slot;
        }
    }
    return next;
}

/* One call of the provider by thread `me`, the lock released meanwhile. */
static apr_status_t call(int me, const unsigned char *key, unsigned char *data,
                         unsigned int *len, apr_time_t expiry,
                         apr_uint64_t epoch)
{
    apr_status_t rv;

    st->busy[me] = 1;
    apr_thread_mutex_unlock(st->lock);
    rv = hint_store_call(st->s, st->pools[me], key, PUSH_REDIRECT_KEY_LEN,
                         data, len, expiry, epoch);
    apr_pool_clear(st->pools[me]);
    apr_thread_mutex_lock(st->lock);
    st->busy[me] = 0;
    return rv;
}

/* Runs one job. One queued before the store was backed off is not: a
 * fetch is a miss, a write is dropped. Under the lock. */
static void run(slot_t *slot, int me)
{
    apr_status_t rv = APR_EAGAIN;
    unsigned int len = slot->fetch ? sizeof(slot->data) : slot->len;

    slot->state = RUNNING;
    slot->started = apr_time_now();
    slot->epoch = push_redirect_write_budget_epoch(st->budget);
    if (push_redirect_write_budget_usable(st->budget)) {
        rv = call(me, slot->key, slot->remove ? NULL : slot->data, &len,
                  slot->fetch ? 0 : slot->expiry, slot->epoch);
    }
    if (slot->state == ABANDONED || !slot->fetch) {
        slot->state = FREE;
        return;
    }
    slot->rv = rv;
    slot->len = len;
    slot->state = FETCHED;
    apr_thread_cond_broadcast(st->done);
}

/* Fetches a key no record has (the core's are SHA-256 hashes). */
static void probe(int me)
{
    static const unsigned char key[PUSH_REDIRECT_KEY_LEN];
    unsigned char data[64];
    unsigned int len = sizeof(data);
    apr_status_t rv;

    st->probing = 1;
    rv = call(me, key, data, &len, 0,
              push_redirect_write_budget_epoch(st->budget));
    st->probing = 0;
    if (push_redirect_write_budget_probed(st->budget,
                                          hint_store_answered(rv))) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, st->s, PRLOGNO(0113)
                     "hint store %s answers again", st->name);
        push_redirect_counts_backoff_end();
    }
}

static void *APR_THREAD_FUNC store_thread(apr_thread_t *thread, void *data)
{
    int me = (int)(apr_uintptr_t)data;
    slot_t *slot;

    (void)thread;
    apr_thread_mutex_lock(st->lock);
    while (!st->stopping) {
        if ((slot = next_job())) {
            run(slot, me);
        }
        else if (!st->probing
                 && push_redirect_write_budget_probe_due(st->budget)) {
            probe(me);
        }
        else if (push_redirect_write_budget_usable(st->budget)) {
            apr_thread_cond_wait(st->work, st->lock);
        }
        else {
            apr_thread_cond_timedwait(st->work, st->lock, PROBE_TICK);
        }
    }
    apr_thread_mutex_unlock(st->lock);
    return NULL;
}

/* pchild's cleanup: threads not in a call stop and are joined. */
static apr_status_t stop(void *data)
{
    int busy[THREADS], i;
    apr_status_t rv;

    (void)data;
    apr_thread_mutex_lock(st->lock);
    st->stopping = 1;
    apr_thread_cond_broadcast(st->work);
    memcpy(busy, st->busy, sizeof(busy));
    apr_thread_mutex_unlock(st->lock);
    for (i = 0; i < THREADS; i++) {
        if (st->threads[i] && !busy[i]) {
            apr_thread_join(&rv, st->threads[i]);
        }
    }
    return APR_SUCCESS;
}

apr_status_t store_threads_start(apr_pool_t *pchild, server_rec *s,
                                 const char *name,
                                 const push_redirect_write_budget *budget)
{
    apr_pool_t *pool;
    apr_status_t rv;
    int i;

    /* A child of APR's global pool, which no child destroys. */
    if ((rv = apr_pool_create(&pool, NULL)) != APR_SUCCESS) {
        return rv;
    }
    st = apr_pcalloc(pool, sizeof(*st));
    st->s = s;
    st->name = name; /* the configuration's, which no child destroys */
    st->budget = budget;
    if ((rv = apr_thread_mutex_create(&st->lock, APR_THREAD_MUTEX_DEFAULT,
                                      pool)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&st->work, pool)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&st->done, pool)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < THREADS && rv == APR_SUCCESS; i++) {
        if ((rv = apr_pool_create(&st->pools[i], pool)) == APR_SUCCESS) {
            rv = apr_thread_create(&st->threads[i], NULL, store_thread,
                                   (void *)(apr_uintptr_t)i, pool);
        }
    }
    /* Registered even when a thread failed: those started are stopped. */
    apr_pool_cleanup_register(pchild, NULL, stop, apr_pool_cleanup_null);
    return rv;
}
