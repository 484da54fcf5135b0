/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The shared store of learned hints: Apache's shared object cache
 * (mod_socache), named by PushRedirectEarlyHintsCache. It moves bytes only:
 * the records and their keys are made and read back by the Rust core.
 */

#ifndef PUSH_REDIRECT_HINT_STORE_H
#define PUSH_REDIRECT_HINT_STORE_H

#include "httpd.h"
#include "http_config.h"

#include "apr_pools.h"
#include "apr_time.h"

/* The buffer a fetch is given: more than the core's longest record
 * (MAX_RECORD_LEN, 8199 bytes), so that an over-long value that someone
 * else wrote reaches the core and is rejected there; memcache's and
 * redis's providers log an error for a value longer than the buffer. */
#define HINT_STORE_FETCH_MAX 16384

/* The default when PushRedirectEarlyHintsCache is absent (and for a bare
 * `shmcb`): shmcb, 1 MB, its file (used only where anonymous shared memory
 * is not) in the runtime directory (DefaultRuntimeDir). For the core's
 * 32-byte keys shmcb makes 32 subcaches of 204 entries; measured through
 * mod_status with 9,000 stores: 6,528 records of 100 bytes (the index is
 * full), 2,656 of 300 bytes (the data is: each takes its key, its bytes and
 * 24 bytes of index). Older records make room for newer ones. */
#define HINT_STORE_DEFAULT_SIZE 1048576
#define HINT_STORE_DEFAULT_FILE "push-redirect-hints"

/* Directive handlers, server config only. */
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

/* Registers the store's own pre_config (its mutex, the mod_status hook),
 * check_config (the default provider), post_config (init, the mutex) and
 * child_init hooks. To be called from the module's register_hooks. */
void hint_store_register_hooks(apr_pool_t *p);

/* Whether a store is configured and initialised in this process. */
int hint_store_enabled(void);

/* The PushRedirectEarlyHintsLifetime value as written, NULL when absent.
 * TODO(wiring): parse it with the core (parse_lifetime, whose default and
 * range it owns) in the directive handler, through the FFI. */
const char *hint_store_lifetime_arg(void);

/* Copies the record stored under `key` into `buf`, at most *len bytes;
 * *len is then its length. APR_SUCCESS, or APR_NOTFOUND for every miss:
 * nothing stored, a value longer than *len, no store, the store failing
 * (logged at debug; the first failure also logs one warning, and the store
 * is then left alone for 30 s, see hint_store.c). Never waits for the
 * mutex for more than 100 ms. */
apr_status_t hint_store_fetch(server_rec *s, const unsigned char *key,
                              unsigned int keylen, unsigned char *buf,
                              unsigned int *len, apr_pool_t *p);

/* Stores `len` bytes under `key` until `expiry` (memcache and redis count
 * whole seconds: rounded up here); the failures of a fetch, returned as
 * they are. */
apr_status_t hint_store_store(server_rec *s, const unsigned char *key,
                              unsigned int keylen, const unsigned char *data,
                              unsigned int len, apr_time_t expiry,
                              apr_pool_t *p);

/* Removes the record under `key` (a page that no longer has hints). */
apr_status_t hint_store_remove(server_rec *s, const unsigned char *key,
                               unsigned int keylen, apr_pool_t *p);

#endif /* PUSH_REDIRECT_HINT_STORE_H */
