/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The shared store of learned hints on mod_socache, in the way of
 * mod_cache_socache and mod_ssl's session cache: the provider is looked up
 * and created when the directive is read (so `apachectl -t` reports a
 * provider that is not loaded or a value it refuses), initialised in
 * post_config and destroyed with the configuration pool; a global mutex,
 * registered as "push-redirect-hints" so that `Mutex` can configure it,
 * serialises providers that are not safe across processes and threads
 * (shmcb, dbm). Those are called by the request's own thread; the others
 * (memcache, redis), which can hang, only by the child's store threads
 * (store_threads.c). Either way through store_call.c.
 *
 * A store that fails (a redis that is down, say) or hangs is backed off
 * (store_call.c, store_jobs.c). Meanwhile the core neither fetches nor
 * learns, and nothing is written. A provider behind the mutex is used
 * again PUSH_REDIRECT_BACKOFF_SECS later; one of the store threads' once
 * a probe finds it answering.
 */

#include "push_redirect_private.h"
#include "hint_store.h"
#include "store_call.h"
#include "store_threads.h"

#include "http_core.h"
#include "http_log.h"

#include "ap_provider.h"
#include "ap_socache.h"
#include "util_mutex.h"

#include "apr_global_mutex.h"

APLOG_USE_MODULE(push_redirect);

#define DIRECTIVE "PushRedirectEarlyHintsCache"
#define MUTEX_TYPE "push-redirect-hints"
/* The provider's namespace: memcache and redis prefix every key with it. */
#define CACHE_NAME "push-redirect"
/* The core's fetch: unanswered while the store is backed off, which an
 * earlier fetch of this response may have started. */
static push_redirect_fetched core_fetch(void *ctx, const uint8_t *key,
                                        size_t key_len, uint8_t *buf,
                                        unsigned int *len)
{
    request_rec *r = ctx;
    apr_status_t rv;

    if (!push_redirect_write_budget_usable(hint_store_budget)
        || key_len != PUSH_REDIRECT_KEY_LEN) {
        return PUSH_REDIRECT_FETCHED_UNANSWERED;
    }
    if (hint_store_threaded) {
        return store_threads_fetch(key, buf, len);
    }
    rv = hint_store_call(r->server, r->pool, key, PUSH_REDIRECT_KEY_LEN, buf,
                         len, 0,
                         push_redirect_write_budget_epoch(hint_store_budget));
    return hint_store_fetched(rv);
}

/* The core's put, during its call: a record (or a page's hints not yet
 * public) copied into a store thread's slot, or stored at once. */
static void core_put(void *ctx, const uint8_t *key, size_t key_len,
                     const uint8_t *record, size_t record_len,
                     uint64_t lifetime)
{
    request_rec *r = ctx;
    unsigned int len = (unsigned int)record_len;
    apr_time_t expiry;

    /* The store may have failed since the core was asked, in a fetch of
     * this very response: then its provider is not called again. */
    if (!record || key_len != PUSH_REDIRECT_KEY_LEN || !hint_store_conf.ready
        || !push_redirect_write_budget_usable(hint_store_budget)) {
        return;
    }
    /* The expiry is the store's, on the wall clock: mod_socache's
     * providers (and every server of a farm) compare it with their own
     * apr_time_now(). The child's budget and windows run on a monotonic
     * clock of their own (the budget's); a step of the wall clock changes
     * only when records expire. memcache and redis count whole seconds,
     * rounded down: round up, so that a lifetime of 1 s is not refused as
     * past. */
    expiry = r->request_time + apr_time_from_sec(lifetime + 1) - 1;
    if (hint_store_threaded) {
        store_threads_store(key, record, len, expiry);
        return;
    }
    /* The providers copy the data; it is not const only in the socache
     * API. */
    hint_store_call(r->server, r->pool, key, PUSH_REDIRECT_KEY_LEN,
                    (unsigned char *)record, &len, expiry,
                    push_redirect_write_budget_epoch(hint_store_budget));
}

int hint_store_learns(void)
{
    return hint_store_conf.ready && hint_store_budget;
}

push_redirect_store hint_store_prepare(request_rec *r)
{
    return (push_redirect_store){
        .fetch = hint_store_conf.ready ? core_fetch : NULL,
        .put = hint_store_conf.ready ? core_put : NULL,
        .fetch_ctx = r,
        .authenticated = push_redirect_authenticated,
        .may_fetch = push_redirect_may_fetch,
        .stranger_may_fetch = push_redirect_stranger_may_fetch,
        .budget = hint_store_budget,
        .lifetime = hint_store_conf.lifetime,
    };
}

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    memset(&hint_store_conf, 0, sizeof(hint_store_conf));
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0)
               == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

static apr_status_t forget_instance(void *s)
{
    /* Only the parent destroys its configuration pool: no store thread
     * can be in a call of the instance then. */
    if (hint_store_conf.ready) {
        hint_store_conf.provider->destroy(hint_store_conf.ready, s);
    }
    hint_store_conf.ready = NULL;
    hint_store_conf.mutex = NULL;
    return APR_SUCCESS;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    /* Sized for the core's records: a 32-byte key, a few hints. */
    static const struct ap_socache_hints hints = {32, 128, 30000000};
    apr_status_t rv = APR_SUCCESS;

    (void)plog;
    (void)ptemp;
    /* As mod_ssl does: the first post_config of httpd's startup only checks
     * the configuration, and its pool is cleared right after. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || !hint_store_conf.instance) {
        return OK;
    }
    if (hint_store_conf.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&hint_store_conf.mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
    }
    if (rv == APR_SUCCESS) {
        rv = hint_store_conf.provider->init(hint_store_conf.instance, CACHE_NAME, &hints, s, pconf);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PRLOGNO(0109)
                     DIRECTIVE " %s: the cache cannot be initialised",
                     hint_store_conf.value);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    hint_store_conf.ready = hint_store_conf.instance;
    apr_pool_cleanup_register(pconf, s, forget_instance, apr_pool_cleanup_null);
    return OK;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (hint_store_conf.mutex && apr_global_mutex_child_init(
                          &hint_store_conf.mutex, apr_global_mutex_lockfile(hint_store_conf.mutex),
                          pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PRLOGNO(0111)
                     "the %s mutex cannot be used in this child; nothing is "
                     "learned here", MUTEX_TYPE);
        hint_store_conf.ready = NULL;
    }
    /* A provider safe across threads and processes on its own is one on
     * the network (memcache, redis, a third party's): it can hang. */
    hint_store_threaded = hint_store_conf.ready && !hint_store_conf.mutex;
    hint_store_budget = push_redirect_write_budget_new(
        hint_store_threaded, push_redirect_counts_child());
    if (!hint_store_threaded) {
        /* Released, and the global cleared, with the child's pool. A
         * store thread's budget is never released: one stuck in a call
         * may return while the child exits, and use it then. */
        apr_pool_cleanup_register(pchild, &hint_store_budget,
                                  push_redirect_write_budget_release,
                                  apr_pool_cleanup_null);
    }
    else if ((rv = store_threads_start(pchild, s, hint_store_conf.value,
                                       hint_store_budget))
             != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PRLOGNO(0114)
                     "the hint store's threads cannot be started in this "
                     "child; nothing is learned here");
        hint_store_conf.ready = NULL;
    }
}

void hint_store_view_get(hint_store_view *view)
{
    *view = (hint_store_view){hint_store_conf.value, hint_store_conf.provider,
                              hint_store_conf.ready, hint_store_conf.mutex,
                              hint_store_threaded, hint_store_budget};
}

void hint_store_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(hint_store_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
