/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The shared store of learned hints: Apache's shared object cache
 * (mod_socache), named by PushRedirectEarlyHintsCache. It moves bytes only:
 * the records, their keys, the directives' values and the default are the
 * Rust core's (push_redirect.h).
 */

#ifndef PUSH_REDIRECT_HINT_STORE_H
#define PUSH_REDIRECT_HINT_STORE_H

#include "httpd.h"
#include "http_config.h"
#include "ap_socache.h"

#include "apr_global_mutex.h"

#include "push_redirect.h"

/* For the module's command table; read in store_config.c. */
const char *hint_store_set_cache(cmd_parms *cmd, void *dir_conf,
                                 const char *args);
const char *hint_store_set_lifetime(cmd_parms *cmd, void *dir_conf,
                                    const char *value);

/* The default when the directive is absent (a check_config hook). */
int hint_store_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s);

#define HINT_STORE_COMMANDS                                                  \
    AP_INIT_RAW_ARGS("PushRedirectEarlyHintsCache", hint_store_set_cache,    \
                     NULL, RSRC_CONF,                                         \
                     "Where learned hints are kept: none, "                   \
                     "shmcb[:/path[(bytes)]], memcache:host:port[,...], "     \
                     "redis:host:port[,...] or dbm:/path (default shmcb)"),   \
    AP_INIT_TAKE1("PushRedirectEarlyHintsLifetime", hint_store_set_lifetime, \
                  NULL, RSRC_CONF,                                            \
                  "Seconds a learned record is kept (1 to 86400, "            \
                  "default 600)")

/* Registers the store's pre_config (its mutex), check_config (the default
 * provider), post_config (init, the mutex) and child_init (the mutex, the
 * child's write budget) hooks. From the module's register_hooks. */
void hint_store_register_hooks(apr_pool_t *p);

/* Whether this child has a store to learn into. */
int hint_store_learns(void);

/* The store for the core's call on this response; `fetch` and `put` are
 * NULL when there is none (one that failed or hung lately is a miss,
 * logged once a back-off). What the core puts is stored at once, or
 * queued for the store threads, never waited for. */
push_redirect_store hint_store_prepare(request_rec *r);

/* The store as this child has it, for the status page and the info
 * handler: the directive's value, the provider and its instance (NULL:
 * none in this child), the mutex it is called under (NULL: none), whether
 * the store threads call it, and the child's budget. */
typedef struct {
    const char *value;
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    apr_global_mutex_t *mutex;
    int threaded;
    const push_redirect_write_budget *budget;
} hint_store_view;
void hint_store_view_get(hint_store_view *view);

#endif /* PUSH_REDIRECT_HINT_STORE_H */
