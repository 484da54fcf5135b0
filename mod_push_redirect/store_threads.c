/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The store threads: a provider that can hang (memcache, redis: see
 * docs/directives.md, PushRedirectEarlyHintsCache) is called only by
 * THREADS threads per child, each with a pool of its own cleared after
 * each call, running the jobs the requests queue in a fixed table of
 * SLOTS (store_jobs.c), first queued first. A job queued before the store
 * was backed off is not run. While it is backed off, a free thread probes
 * it, one at a time when the budget says one is due, until it answers.
 * shmcb and dbm are not called here (hint_store.c).
 *
 * An exiting child joins only the threads not in a call: one that is may
 * return before the process is gone, so what they use is not pchild's
 * (destroyed before the exit) but a pool that lives as long as the process.
 */

#include "push_redirect_private.h"
#include "store_call.h"
#include "store_threads.h"
#include "http_log.h"

APLOG_USE_MODULE(push_redirect);

/* How often a free thread looks for a due probe while the store is backed
 * off (else they sleep until a job comes). */
#define PROBE_TICK apr_time_from_msec(250)

struct store_threads *store_threads;

static slot_t *next_job(void)
{
    slot_t *slot, *next = NULL;

    for (slot = store_threads->slots; slot < store_threads->slots + SLOTS;
         slot++) {
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

    store_threads->busy[me] = 1;
    apr_thread_mutex_unlock(store_threads->lock);
    rv = hint_store_call(store_threads->s, store_threads->pools[me], key,
                         PUSH_REDIRECT_KEY_LEN, data, len, expiry, epoch);
    apr_pool_clear(store_threads->pools[me]);
    apr_thread_mutex_lock(store_threads->lock);
    store_threads->busy[me] = 0;
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
    slot->epoch = push_redirect_write_budget_epoch(store_threads->budget);
    if (push_redirect_write_budget_usable(store_threads->budget)) {
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
    apr_thread_cond_broadcast(store_threads->done);
}

/* Fetches a key no record has (the core's are SHA-256 hashes). */
static void probe(int me)
{
    static const unsigned char key[PUSH_REDIRECT_KEY_LEN];
    unsigned char data[64];
    unsigned int len = sizeof(data);
    apr_status_t rv;

    store_threads->probing = 1;
    rv = call(me, key, data, &len, 0,
              push_redirect_write_budget_epoch(store_threads->budget));
    store_threads->probing = 0;
    if (push_redirect_write_budget_probed(store_threads->budget,
                                          hint_store_answered(rv))) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, store_threads->s,
                     PRLOGNO(0113) "hint store %s answers again",
                     store_threads->name);
        push_redirect_counts_backoff_end();
    }
}

static void *APR_THREAD_FUNC store_thread(apr_thread_t *thread, void *data)
{
    int me = (int)(apr_uintptr_t)data;
    slot_t *slot;

    (void)thread;
    apr_thread_mutex_lock(store_threads->lock);
    while (!store_threads->stopping) {
        if ((slot = next_job())) {
            run(slot, me);
        }
        else if (!store_threads->probing
                 && push_redirect_write_budget_probe_due(store_threads->budget)) {
            probe(me);
        }
        else if (push_redirect_write_budget_usable(store_threads->budget)) {
            apr_thread_cond_wait(store_threads->work, store_threads->lock);
        }
        else {
            apr_thread_cond_timedwait(store_threads->work, store_threads->lock,
                                      PROBE_TICK);
        }
    }
    apr_thread_mutex_unlock(store_threads->lock);
    return NULL;
}

/* pchild's cleanup: threads not in a call stop and are joined. */
static apr_status_t stop(void *data)
{
    int busy[THREADS], i;
    apr_status_t rv;

    (void)data;
    apr_thread_mutex_lock(store_threads->lock);
    store_threads->stopping = 1;
    apr_thread_cond_broadcast(store_threads->work);
    memcpy(busy, store_threads->busy, sizeof(busy));
    apr_thread_mutex_unlock(store_threads->lock);
    for (i = 0; i < THREADS; i++) {
        if (store_threads->threads[i] && !busy[i]) {
            apr_thread_join(&rv, store_threads->threads[i]);
        }
    }
    return APR_SUCCESS;
}

apr_status_t store_threads_start(apr_pool_t *pchild, server_rec *s,
                                 const char *name,
                                 const push_redirect_write_budget *budget)
{
    struct store_threads *st;
    apr_pool_t *pool;
    apr_status_t rv;
    int i;

    /* A child of APR's global pool, which no child destroys. */
    if ((rv = apr_pool_create(&pool, NULL)) != APR_SUCCESS) {
        return rv;
    }
    st = store_threads = apr_pcalloc(pool, sizeof(*st));
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
