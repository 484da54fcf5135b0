/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The store's two directives, server config only: PushRedirectEarlyHintsCache
 * (the syntax of mod_ssl's SSLSessionCache: none, or provider[:args],
 * whose provider is looked up and created as the line is read, so that
 * `apachectl -t` reports one that is not loaded or refuses its arguments)
 * and PushRedirectEarlyHintsLifetime.
 */

#include "push_redirect_private.h"
#include "hint_store.h"
#include "store_call.h"

#include "http_log.h"

#include "ap_provider.h"
#include "apr_lib.h"
#include "apr_strings.h"

APLOG_USE_MODULE(push_redirect);

#define DIRECTIVE "PushRedirectEarlyHintsCache"
#define USAGE "takes one of none, shmcb[:/path[(bytes)]], " \
    "memcache:host:port[,host:port], redis:host:port[,host:port] or dbm:/path"
/* shmcb alone, and the store when the directive is absent: 1 MB in a file
 * of the runtime directory (used only where anonymous shared memory is
 * not). For 32-byte keys shmcb makes 32 subcaches of 204 entries: about
 * 6,500 records of 100 bytes (the index is full) or 2,600 of 300 bytes
 * (the data is). Older records make room for newer ones. */
#define DEFAULT_SHMCB_ARGS "push-redirect-hints(1048576)"
#define MAX_LIFETIME 86400

/* The one word of `value` split at its first ':' into `*provider` and
 * `*args` (NULL: the provider's own defaults; `*provider` NULL for none),
 * or why not. */
static const char *parse_cache(apr_pool_t *p, const char *value,
                               const char **provider, const char **args)
{
    const char *rest = value, *word, *colon;

    while (apr_isspace(*rest)) {
        rest++;
    }
    word = ap_getword_white(p, &rest);
    if (!*word || *rest) {
        return apr_psprintf(p, "%s %s", push_redirect_quoted(p, value),
                            apr_isdigit(*word)
                                ? "is the former <entries> <seconds> form: "
                                  "the size is now the provider's (e.g. "
                                  "shmcb:/path(1048576)) and the lifetime is "
                                  "PushRedirectEarlyHintsLifetime <seconds>; "
                                  DIRECTIVE " " USAGE
                                : USAGE);
    }
    *provider = *args = NULL;
    if (!strcasecmp(word, "none")) {
        return NULL;
    }
    colon = ap_strchr_c(word, ':');
    *provider = colon ? apr_pstrmemdup(p, word, colon - word) : word;
    *args = colon ? colon + 1 : NULL;
    if (!**provider
        || (*provider)[strspn(*provider, "abcdefghijklmnopqrstuvwxyz"
                                         "0123456789_")]) {
        return apr_psprintf(p, "%s " USAGE, push_redirect_quoted(p, value));
    }
    if (!strcmp(*provider, "shmcb") && !*args) {
        *args = DEFAULT_SHMCB_ARGS;
    }
    return NULL;
}

/* Parses `value` and creates its provider. */
static const char *create_provider(apr_pool_t *p, apr_pool_t *ptemp,
                                   const char *value)
{
    const char *provider = NULL, *args = NULL;
    const char *error = parse_cache(p, value, &provider, &args);

    if (error) {
        return apr_psprintf(p, DIRECTIVE ": %s", error);
    }
    hint_store_conf.configured = 1;
    hint_store_conf.value = value;
    if (!provider) {
        return NULL;
    }
    hint_store_conf.provider = ap_lookup_provider(
        AP_SOCACHE_PROVIDER_GROUP, provider, AP_SOCACHE_PROVIDER_VERSION);
    if (!hint_store_conf.provider) {
        return apr_psprintf(p, DIRECTIVE " %s: the '%s' cache provider is not "
                            "loaded; add LoadModule socache_%s_module "
                            "modules/mod_socache_%s.so", value, provider,
                            provider, provider);
    }
    error = hint_store_conf.provider->create(&hint_store_conf.instance, args,
                                             ptemp, p);
    return error ? apr_psprintf(p, DIRECTIVE " %s: %s", value, error) : NULL;
}

const char *hint_store_set_cache(cmd_parms *cmd, void *dir_conf,
                                 const char *args)
{
    const char *error = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dir_conf;
    if (!error && hint_store_conf.configured) {
        error = DIRECTIVE ": set twice (once per server)";
    }
    return error ? error : create_provider(cmd->pool, cmd->temp_pool, args);
}

/* PushRedirectEarlyHintsLifetime <seconds>: digits only, 1 to a day. */
const char *hint_store_set_lifetime(cmd_parms *cmd, void *dir_conf,
                                    const char *value)
{
    const char *error = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t seconds = 0;

    (void)dir_conf;
    if (error) {
        return error;
    }
    if (*value && !value[strspn(value, "0123456789")] && strlen(value) <= 5) {
        seconds = apr_strtoi64(value, NULL, 10);
    }
    if (seconds < 1 || seconds > MAX_LIFETIME) {
        return apr_psprintf(cmd->pool, "%s: %s is not a lifetime in seconds "
                            "(1 to 86400)", cmd->cmd->name,
                            push_redirect_quoted(cmd->pool, value));
    }
    hint_store_conf.lifetime = (apr_uint64_t)seconds;
    return NULL;
}

/* The default when the directive is absent, in check_config so that
 * `apachectl -t` sees it too; without mod_socache_shmcb, nothing is
 * learned. */
int hint_store_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    const char *error = NULL;

    (void)plog;
    if (!hint_store_conf.configured) {
        if (ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                               AP_SOCACHE_PROVIDER_VERSION)) {
            error = create_provider(pconf, ptemp, "shmcb");
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PRLOGNO(0107)
                         DIRECTIVE " is not set and mod_socache_shmcb is not "
                         "loaded: nothing is learned");
        }
    }
    if (error) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PRLOGNO(0106) "%s", error);
    }
    return error ? HTTP_INTERNAL_SERVER_ERROR : OK;
}
