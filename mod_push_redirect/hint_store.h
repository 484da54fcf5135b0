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

#include "push_redirect.h"

const char *hint_store_set_cache(cmd_parms *cmd, void *dir_conf,
                                 const char *args);
const char *hint_store_set_lifetime(cmd_parms *cmd, void *dir_conf,
                                    const char *value);

/* For the module's command table. */
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

/* The store for the core's call on this response; `fetch` is NULL when
 * there is none (or it failed lately: a miss, logged once a back-off). */
void hint_store_prepare(request_rec *r, push_redirect_store *store);

/* Stores the record the answer carries, if any. */
void hint_store_apply(request_rec *r, const push_redirect_answer *answer);

#endif /* PUSH_REDIRECT_HINT_STORE_H */
