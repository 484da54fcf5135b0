/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The shared store of learned hints on mod_socache, in the way of
 * mod_cache_socache and mod_ssl's session cache: the provider is looked up
 * and created when the directive is read (so `apachectl -t` reports a
 * provider that is not loaded or a value it refuses), initialised in
 * post_config and destroyed with the configuration pool; a global mutex,
 * registered as "push-redirect-hints" so that `Mutex` can configure it,
 * serialises providers that are not safe across processes and threads
 * (shmcb, dbm). The bytes stored are the Rust core's records; nothing here
 * reads them.
 *
 * A store that fails (a redis that is down, say) is left alone for
 * BACKOFF: its provider logs each failure itself, at error or crit, so
 * calling it on every request would fill the error log. Over that time
 * every fetch is a miss and every store is dropped: the module then sends
 * the hints it is configured with, and learns nothing.
 */

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"

#include "ap_provider.h"
#include "ap_socache.h"
#include "mod_status.h"
#include "util_mutex.h"

#include "apr_atomic.h"
#include "apr_global_mutex.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include "hint_store.h"

APLOG_USE_MODULE(push_redirect);

#ifndef PRLOGNO
#define PRLOGNO(n) "PR" #n ": "
#endif

#define DIRECTIVE "PushRedirectEarlyHintsCache"
#define MUTEX_TYPE "push-redirect-hints"
/* The provider's namespace: memcache and redis prefix every key with it,
 * and keep it to 14 characters. */
#define CACHE_NAME "push-redirect"

#define LOCK_TIMEOUT apr_time_from_msec(100)
#define BACKOFF apr_time_from_sec(30)

/* What the configuration says; reset before each read of it. */
static struct {
    /* The directive was read (even as `none`). */
    int configured;
    /* `none`, or the default with no shmcb to be had. */
    int disabled;
    /* The default was wanted but mod_socache_shmcb is not loaded. */
    int default_missing;
    const char *value;
    const char *lifetime_arg;
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
} conf;

/* Set in post_config once the instance is initialised; NULL otherwise. */
static ap_socache_instance_t *ready;
static apr_global_mutex_t *mutex;
/* When the store may be used again after a failure (apr_time_t). */
static volatile apr_uint64_t resume_at;

static const char *usage(void)
{
    return DIRECTIVE " takes one of none, shmcb[:/path[(bytes)]], "
           "memcache:host:port[,host:port], redis:host:port[,host:port] or "
           "dbm:/path";
}

static int is_provider_name(const char *name)
{
    const char *c;

    if (!*name) {
        return 0;
    }
    for (c = name; *c; c++) {
        if (!apr_islower(*c) && !apr_isdigit(*c) && *c != '_') {
            return 0;
        }
    }
    return 1;
}

/* Looks up and creates the provider `name` with `args` (NULL: its own
 * defaults). Returns an error message naming the directive and `value`. */
static const char *create_provider(apr_pool_t *p, apr_pool_t *ptemp,
                                   const char *name, const char *args,
                                   const char *value)
{
    const char *error;

    if (!is_provider_name(name)) {
        return apr_psprintf(p, "%s: '%s' is not a cache provider; %s",
                            DIRECTIVE, value, usage());
    }
    conf.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                       AP_SOCACHE_PROVIDER_VERSION);
    if (!conf.provider) {
        return apr_psprintf(p, "%s %s: the '%s' cache provider is not loaded; "
                            "add LoadModule socache_%s_module "
                            "modules/mod_socache_%s.so (on Debian: a2enmod "
                            "socache_%s)", DIRECTIVE, value, name, name,
                            name, name);
    }
    error = conf.provider->create(&conf.instance, args, ptemp, p);
    if (error) {
        conf.provider = NULL;
        conf.instance = NULL;
        return apr_psprintf(p, "%s %s: %s", DIRECTIVE, value, error);
    }
    conf.value = value;
    return NULL;
}

static const char *default_shmcb_args(apr_pool_t *p)
{
    return apr_psprintf(p, "%s(%d)", HINT_STORE_DEFAULT_FILE,
                        HINT_STORE_DEFAULT_SIZE);
}

const char *hint_store_set_cache(cmd_parms *cmd, void *dir_conf,
                                 const char *args)
{
    const char *context_error = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *rest = args;
    const char *value, *colon, *name, *provider_args;

    (void)dir_conf;
    if (context_error) {
        return context_error;
    }
    value = ap_getword_conf(cmd->temp_pool, &rest);
    if (*rest) {
        if (apr_isdigit(*value)) {
            return apr_psprintf(cmd->pool,
                                "%s %s: the <entries> <seconds> form is gone: "
                                "the size is the provider's (e.g. "
                                "shmcb:/path(1048576)) and the lifetime is "
                                "PushRedirectEarlyHintsLifetime <seconds>; %s",
                                DIRECTIVE, args, usage());
        }
        return apr_psprintf(cmd->pool, "%s %s: one value only; %s",
                            DIRECTIVE, args, usage());
    }
    if (conf.configured) {
        return apr_psprintf(cmd->pool, "%s: set twice (once per server)",
                            DIRECTIVE);
    }
    conf.configured = 1;
    if (!strcasecmp(value, "none")) {
        conf.disabled = 1;
        return NULL;
    }
    colon = ap_strchr_c(value, ':');
    name = colon ? apr_pstrmemdup(cmd->temp_pool, value, colon - value)
                 : value;
    provider_args = colon ? colon + 1 : NULL;
    if (!strcmp(name, "shmcb") && !provider_args) {
        provider_args = default_shmcb_args(cmd->pool);
    }
    return create_provider(cmd->pool, cmd->temp_pool, name, provider_args,
                           value);
}

const char *hint_store_set_lifetime(cmd_parms *cmd, void *dir_conf,
                                    const char *value)
{
    const char *context_error = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dir_conf;
    if (context_error) {
        return context_error;
    }
    conf.lifetime_arg = value;
    return NULL;
}

const char *hint_store_lifetime_arg(void)
{
    return conf.lifetime_arg;
}

int hint_store_enabled(void)
{
    return ready != NULL;
}

/* ------------------------------------------------------------------ */
/* Using the store                                                     */

static int usable(void)
{
    return ready
           && (apr_time_t)apr_atomic_read64(&resume_at) <= apr_time_now();
}

/* One warning per BACKOFF, from whichever thread saw the failure first. */
static void failed(server_rec *s, const char *what, apr_status_t rv)
{
    apr_uint64_t seen = apr_atomic_read64(&resume_at);
    apr_time_t now = apr_time_now();

    ap_log_error(APLOG_MARK, APLOG_DEBUG, rv, s, PRLOGNO(0101)
                 "hint store %s: %s failed", conf.value, what);
    if ((apr_time_t)seen <= now
        && apr_atomic_cas64(&resume_at, (apr_uint64_t)(now + BACKOFF), seen)
               == seen) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PRLOGNO(0102)
                     "hint store %s: %s failed; not used for %d s (nothing "
                     "learned or hinted from it until then)", conf.value,
                     what, (int)apr_time_sec(BACKOFF));
    }
}

/* A miss, a value longer than the buffer, an expiry already past: not a
 * failing store. */
static int is_ordinary(apr_status_t rv)
{
    return rv == APR_SUCCESS || APR_STATUS_IS_NOTFOUND(rv)
           || APR_STATUS_IS_ENOSPC(rv) || APR_STATUS_IS_ENOMEM(rv)
           || APR_STATUS_IS_EINVAL(rv);
}

static apr_status_t lock(server_rec *s)
{
    apr_status_t rv;

    if (!mutex) {
        return APR_SUCCESS;
    }
    rv = apr_global_mutex_timedlock(mutex, LOCK_TIMEOUT);
    if (APR_STATUS_IS_ENOTIMPL(rv)) {
        rv = apr_global_mutex_lock(mutex);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, rv, s, PRLOGNO(0103)
                     "hint store %s: mutex not taken", conf.value);
    }
    return rv;
}

static void unlock(server_rec *s)
{
    apr_status_t rv;

    if (mutex && (rv = apr_global_mutex_unlock(mutex)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, rv, s, PRLOGNO(0104)
                     "hint store %s: mutex not released", conf.value);
    }
}

apr_status_t hint_store_fetch(server_rec *s, const unsigned char *key,
                              unsigned int keylen, unsigned char *buf,
                              unsigned int *len, apr_pool_t *p)
{
    apr_status_t rv;

    if (!usable() || lock(s) != APR_SUCCESS) {
        return APR_NOTFOUND;
    }
    rv = conf.provider->retrieve(ready, s, key, keylen, buf, len, p);
    unlock(s);
    if (rv == APR_SUCCESS) {
        return APR_SUCCESS;
    }
    /* dbm answers a miss with APR_EGENERAL, which memcache and redis give
     * when their server is gone: only the local providers (the ones behind
     * the mutex) are taken at their word. */
    if (!is_ordinary(rv) && !(mutex && APR_STATUS_IS_EGENERAL(rv))) {
        failed(s, "fetch", rv);
    }
    return APR_NOTFOUND;
}

apr_status_t hint_store_store(server_rec *s, const unsigned char *key,
                              unsigned int keylen, const unsigned char *data,
                              unsigned int len, apr_time_t expiry,
                              apr_pool_t *p)
{
    apr_status_t rv;

    if (!usable()) {
        return APR_NOTFOUND;
    }
    /* memcache and redis keep a record for whole seconds, rounded down:
     * round up instead, so that a lifetime of 1 s is not refused as past. */
    expiry += apr_time_from_sec(1) - 1;
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    /* The providers copy the data; the pointer is not const only in the
     * socache API. */
    rv = conf.provider->store(ready, s, key, keylen, expiry,
                              (unsigned char *)data, len, p);
    unlock(s);
    if (!is_ordinary(rv)) {
        failed(s, "store", rv);
    }
    return rv;
}

apr_status_t hint_store_remove(server_rec *s, const unsigned char *key,
                               unsigned int keylen, apr_pool_t *p)
{
    apr_status_t rv;

    if (!usable()) {
        return APR_NOTFOUND;
    }
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    rv = conf.provider->remove(ready, s, key, keylen, p);
    unlock(s);
    if (!is_ordinary(rv)) {
        failed(s, "remove", rv);
    }
    return rv;
}

/* ------------------------------------------------------------------ */
/* Hooks                                                               */

static int status_hook(request_rec *r, int flags)
{
    if (!ready || !conf.provider->status) {
        return OK;
    }
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "PushRedirectHintStore: %s\n",
                   ap_escape_html(r->pool, conf.value));
    }
    else {
        ap_rprintf(r, "<hr>\n<h2>mod_push_redirect learned hints: %s</h2>\n",
                   ap_escape_html(r->pool, conf.value));
    }
    if (lock(r->server) != APR_SUCCESS) {
        ap_rputs((flags & AP_STATUS_SHORT) ? "NotAvailable\n"
                                           : "<p>Not available now.</p>\n", r);
        return OK;
    }
    conf.provider->status(ready, r, flags);
    unlock(r->server);
    return OK;
}

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    apr_status_t rv;

    (void)ptemp;
    memset(&conf, 0, sizeof(conf));
    ready = NULL;
    mutex = NULL;
    apr_atomic_set64(&resume_at, 0);
    rv = ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
    if (rv != APR_SUCCESS) {
        ap_log_perror(APLOG_MARK, APLOG_CRIT, rv, plog, PRLOGNO(0105)
                      "cannot register the %s mutex", MUTEX_TYPE);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
    return OK;
}

/* The default when the directive is absent, in check_config so that
 * `apachectl -t` sees it too. */
static int check_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s)
{
    const char *error;

    (void)s;
    if (conf.configured) {
        return OK;
    }
    if (!ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                            AP_SOCACHE_PROVIDER_VERSION)) {
        conf.disabled = 1;
        conf.default_missing = 1;
        return OK;
    }
    error = create_provider(pconf, ptemp, "shmcb", default_shmcb_args(pconf),
                            "(default shmcb)");
    if (error) {
        ap_log_perror(APLOG_MARK, APLOG_CRIT, 0, plog, PRLOGNO(0106) "%s",
                      error);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static apr_status_t forget_instance(void *server)
{
    if (ready) {
        conf.provider->destroy(ready, server);
    }
    ready = NULL;
    return APR_SUCCESS;
}

static apr_status_t forget_mutex(void *unused)
{
    (void)unused;
    mutex = NULL;
    return APR_SUCCESS;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    /* Sized for the core's records: a 32-byte key, a few hints. */
    static const struct ap_socache_hints hints = {32, 128, 30000000};
    apr_status_t rv;

    (void)ptemp;
    /* As mod_ssl does: the first post_config of httpd's startup only checks
     * the configuration, and its pool is cleared right after. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (conf.default_missing) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PRLOGNO(0107)
                     "%s is not set and mod_socache_shmcb is not loaded: "
                     "nothing is learned; add LoadModule socache_shmcb_module "
                     "modules/mod_socache_shmcb.so, or set %s none",
                     DIRECTIVE, DIRECTIVE);
    }
    if (conf.disabled || !conf.instance) {
        return OK;
    }
    if (conf.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&mutex, NULL, MUTEX_TYPE, NULL, s, pconf,
                                    0);
        if (rv != APR_SUCCESS) {
            ap_log_perror(APLOG_MARK, APLOG_CRIT, rv, plog, PRLOGNO(0108)
                          "%s %s: cannot create the %s mutex", DIRECTIVE,
                          conf.value, MUTEX_TYPE);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_pool_cleanup_register(pconf, NULL, forget_mutex,
                                  apr_pool_cleanup_null);
    }
    rv = conf.provider->init(conf.instance, CACHE_NAME, &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_perror(APLOG_MARK, APLOG_CRIT, rv, plog, PRLOGNO(0109)
                      "%s %s: the cache cannot be initialised", DIRECTIVE,
                      conf.value);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ready = conf.instance;
    apr_pool_cleanup_register(pconf, s, forget_instance,
                              apr_pool_cleanup_null);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PRLOGNO(0110)
                 "learned hints in %s%s", conf.value,
                 mutex ? ", behind the " MUTEX_TYPE " mutex" : "");
    return OK;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (!mutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&mutex, apr_global_mutex_lockfile(mutex),
                                     pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PRLOGNO(0111)
                     "%s %s: the %s mutex cannot be used in this child; "
                     "nothing is learned here", DIRECTIVE, conf.value,
                     MUTEX_TYPE);
        ready = NULL;
    }
}

void hint_store_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
