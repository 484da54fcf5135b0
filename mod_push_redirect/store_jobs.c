/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The store threads' jobs as the requests see them (the threads that run
 * them: store_threads.c). A request queues a fetch in a free slot of the
 * table and waits at most WAIT_MS for it; a full table or an expired wait
 * is a miss. A write is queued, never waited for. A job still queued when
 * its waiter gives up is dropped; one running is abandoned, and its thread
 * frees the slot when the call returns. A call found running past
 * STALL_MS when a job is queued backs the store off (the child's write
 * budget keeps that): requests skip it, no wait and no write, until a
 * store thread's probe finds it answering.
 */

#include "push_redirect_private.h"
#include "store_call.h"
#include "store_threads.h"
#include "http_log.h"

APLOG_USE_MODULE(push_redirect);

#define WAIT_MS 50   /* a request's wait for a fetch */
#define STALL_MS 100 /* a call running longer has hung */

/* Backs off the store a call begun at `epoch` found not answering in `ms`
 * (one warning); the threads then wait for probes. Under the lock. */
static void hung(apr_uint64_t epoch, const char *what, int ms)
{
    if (push_redirect_write_budget_fail(store_threads->budget, epoch)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, store_threads->s,
                     PRLOGNO(0112) "hint store %s: a %s did not answer within "
                     "%d ms; not used until it answers again",
                     store_threads->name, what, ms);
        push_redirect_counts_backoff(0);
        apr_thread_cond_broadcast(store_threads->work);
    }
}

/* Queues a job in a free slot, if the store is usable and no call in
 * flight has stalled since it became so; NULL otherwise. Under the lock. */
static slot_t *queue(int fetch, const unsigned char *key)
{
    apr_time_t stalled = apr_time_now() - apr_time_from_msec(STALL_MS);
    slot_t *slot, *empty = NULL;

    for (slot = store_threads->slots; slot < store_threads->slots + SLOTS;
         slot++) {
        /* A fetch its waiter gave up on is still a call in flight. */
        if ((slot->state == RUNNING || slot->state == ABANDONED)
            && slot->started < stalled) {
            hung(slot->epoch, slot->fetch ? "fetch" : "store", STALL_MS);
        }
        if (slot->state == FREE && !empty) {
            empty = slot;
        }
    }
    if (!empty || !push_redirect_write_budget_usable(store_threads->budget)) {
        return NULL;
    }
    empty->state = QUEUED;
    empty->fetch = fetch;
    empty->remove = 0;
    empty->order = ++store_threads->queued;
    memcpy(empty->key, key, PUSH_REDIRECT_KEY_LEN);
    apr_thread_cond_signal(store_threads->work);
    return empty;
}

push_redirect_fetched store_threads_fetch(const unsigned char *key,
                                          unsigned char *buf,
                                          unsigned int *len)
{
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(WAIT_MS), now;
    push_redirect_fetched fetched = PUSH_REDIRECT_FETCHED_UNANSWERED;
    slot_t *slot;

    apr_thread_mutex_lock(store_threads->lock);
    if ((slot = queue(1, key))) {
        while (slot->state != FETCHED && (now = apr_time_now()) < deadline) {
            apr_thread_cond_timedwait(store_threads->done, store_threads->lock,
                                      deadline - now);
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
    apr_thread_mutex_unlock(store_threads->lock);
    return fetched;
}

int store_threads_store(const unsigned char *key, const unsigned char *data,
                        unsigned int len, apr_time_t expiry)
{
    slot_t *slot = NULL;

    /* Filled under the lock, before a thread can take it. */
    apr_thread_mutex_lock(store_threads->lock);
    if (len <= PUSH_REDIRECT_FETCH_BUF_LEN && (slot = queue(0, key))) {
        if (data) {
            memcpy(slot->data, data, len);
        }
        slot->remove = !data;
        slot->len = len;
        slot->expiry = expiry;
    }
    apr_thread_mutex_unlock(store_threads->lock);
    return slot != NULL;
}
