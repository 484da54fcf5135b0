/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The raw call of the store's provider, apart from hint_store.c so that
 * the store threads, which make it for a provider that can hang, need
 * nothing above them. The global mutex of the providers that are not
 * safe across processes and threads (shmcb, dbm) is never waited on for
 * more than LOCK_TIMEOUT: a busy one makes the call a miss, not a failure.
 *
 * A call that fails backs the store off, which the child's write budget
 * keeps: the provider logs each failure itself, so calling it on every
 * request would fill the error log.
 */

#include "push_redirect_private.h"
#include "store_call.h"

#include "http_log.h"

#include "apr_global_mutex.h"

APLOG_USE_MODULE(push_redirect);

#define LOCK_TIMEOUT apr_time_from_msec(100)

struct hint_store_conf hint_store_conf;

push_redirect_write_budget *hint_store_budget;
int hint_store_threaded;

/* Whether the store answered: a miss, a value longer than the buffer, an
 * expiry already past are answers, not a failing store. dbm answers a
 * miss with APR_EGENERAL, which memcache and redis give when their server
 * is gone: only the providers behind the mutex are taken at their word. */
int hint_store_answered(apr_status_t rv)
{
    return rv == APR_SUCCESS || APR_STATUS_IS_NOTFOUND(rv)
           || APR_STATUS_IS_ENOSPC(rv) || APR_STATUS_IS_ENOMEM(rv)
           || APR_STATUS_IS_EINVAL(rv) || (hint_store_conf.mutex && APR_STATUS_IS_EGENERAL(rv));
}

/* A failure (not a busy mutex, which only makes this a miss) of a call
 * begun at `epoch` backs the store off, with one warning from whichever
 * thread saw it first. */
apr_status_t hint_store_call(server_rec *s, apr_pool_t *p,
                             const unsigned char *key, unsigned int key_len,
                             unsigned char *data, unsigned int *len,
                             apr_time_t expiry, apr_uint64_t epoch)
{
    apr_status_t rv = hint_store_conf.mutex
                          ? apr_global_mutex_timedlock(hint_store_conf.mutex, LOCK_TIMEOUT)
                          : APR_SUCCESS;

    if (APR_STATUS_IS_ENOTIMPL(rv)) {
        rv = apr_global_mutex_lock(hint_store_conf.mutex);
    }
    if (rv != APR_SUCCESS) {
        return APR_EBUSY;
    }
    rv = !data   ? hint_store_conf.provider->remove(hint_store_conf.ready, s, key, key_len, p)
         : expiry ? hint_store_conf.provider->store(hint_store_conf.ready, s, key, key_len, expiry,
                                         data, *len, p)
                  : hint_store_conf.provider->retrieve(hint_store_conf.ready, s, key, key_len, data,
                                            len, p);
    if (hint_store_conf.mutex) {
        apr_global_mutex_unlock(hint_store_conf.mutex);
    }
    if (!hint_store_answered(rv)
        && push_redirect_write_budget_fail(hint_store_budget, epoch)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PRLOGNO(0102)
                     "hint store %s: %s failed; not used %s", hint_store_conf.value,
                     !data ? "remove" : expiry ? "store" : "fetch",
                     hint_store_threaded ? "until it answers again"
                                         : "for " APR_STRINGIFY(
                                               PUSH_REDIRECT_BACKOFF_SECS) " s");
        push_redirect_counts_backoff(hint_store_threaded ? 0 : PUSH_REDIRECT_BACKOFF_SECS);
    }
    return rv;
}

push_redirect_fetched hint_store_fetched(apr_status_t rv)
{
    return rv == APR_SUCCESS             ? PUSH_REDIRECT_FETCHED_FOUND
           : hint_store_answered(rv) ? PUSH_REDIRECT_FETCHED_MISS
                                     : PUSH_REDIRECT_FETCHED_UNANSWERED;
}
