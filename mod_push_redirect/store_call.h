/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * One call of the shared store's mod_socache provider, and the state it
 * needs. The requests (hint_store.c, info.c) and the store threads
 * (store_threads.c, store_jobs.c) both call the provider: this layer sits
 * under all of them and knows none, so that the threads need not call
 * back up into hint_store.c.
 */

#ifndef PUSH_REDIRECT_STORE_CALL_H
#define PUSH_REDIRECT_STORE_CALL_H

#include "httpd.h"
#include "ap_socache.h"

#include "apr_global_mutex.h"

#include "push_redirect.h"

/* What the configuration says and what became of it; reset before each
 * read of the configuration (hint_store.c); the directives are read in
 * store_config.c. */
struct hint_store_conf {
    int configured;
    const char *value;
    apr_uint64_t lifetime; /* 0: the core's default */
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    ap_socache_instance_t *ready; /* initialised, for the requests */
    apr_global_mutex_t *mutex;    /* for providers not MT/MP-safe */
};
extern struct hint_store_conf hint_store_conf;

/* This child's write budget, which keeps the store's back-off, and whether
 * its provider is called by the store threads: set by child_init
 * (hint_store.c), not with the configuration, as they live with the
 * child. */
extern push_redirect_write_budget *hint_store_budget;
extern int hint_store_threaded;

/* One call of the provider (under the mutex for those that need it): a
 * remove when `data` is NULL, a store when `expiry` is set, else a fetch
 * of at most *len bytes into `data`. `epoch` is the budget's when the
 * call began. */
apr_status_t hint_store_call(server_rec *s, apr_pool_t *p,
                             const unsigned char *key, unsigned int key_len,
                             unsigned char *data, unsigned int *len,
                             apr_time_t expiry, apr_uint64_t epoch);
/* Whether a call that returned `rv` found the store answering (a miss
 * is an answer). */
int hint_store_answered(apr_status_t rv);
/* What a provider's status says a fetch found: a miss (as the providers
 * say it) from an unanswered call. */
push_redirect_fetched hint_store_fetched(apr_status_t rv);

#endif /* PUSH_REDIRECT_STORE_CALL_H */
