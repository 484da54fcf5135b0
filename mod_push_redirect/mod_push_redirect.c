/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * mod_push_redirect: when Apache answers with a same-origin redirect and the
 * client takes HTTP/2 server push, add `Link: </target>; as=document;
 * rel=preload` so that mod_http2 pushes the target with the redirect.
 *
 * This file is the Apache side only: directives, per-dir config merging, the
 * output filter that reads the request and response into the core's view and
 * applies its verdict. What to push, and why not, is decided by the Rust
 * core behind push_redirect.h.
 *
 * Early Hints (PushRedirectEarlyHints): before a same-origin redirect over
 * HTTP/2, a 103 with the preloads of the target, declared in the
 * configuration or learned from earlier 200 responses. The core chooses
 * and serialises the hints; this file sends the 103 and owns the per-child
 * cache.
 */

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

#include "util_cfgtree.h"

#include "apr_optional.h"
#include "apr_strings.h"
#include "apr_tables.h"

#include "mod_http2.h"

#include "push_redirect.h"

#define FILTER_NAME "PUSH_REDIRECT"
#define OPT_OUT_HEADER "X-Push-Redirect"
#define OPT_OUT_ENV "no-push-redirect"
#define PUSHED_ENV "PUSH_REDIRECT"
#define SKIPPED_ENV "PUSH_REDIRECT_SKIPPED"
#define EARLY_HINTS_ENV "PUSH_REDIRECT_EARLY_HINTS"
#define EARLY_HINTS_SKIPPED_ENV "PUSH_REDIRECT_EARLY_HINTS_SKIPPED"
#define INTERNAL_ERROR "internal-error"

/* Our own log message tags; AHnnnnn numbers belong to httpd. */
#define PRLOGNO(n) "PR" #n ": "

/* How much of a Location goes into a trace line. */
#define LOG_LOCATION_MAX 256

#define PUSH_REDIRECT_UNSET (-1)

module AP_MODULE_DECLARE_DATA push_redirect_module;

static APR_OPTIONAL_FN_TYPE(http2_var_lookup) *h2_var_lookup;
static APR_OPTIONAL_FN_TYPE(http2_is_h2) *h2_is_h2;

/* PushRedirectEarlyHintsCache, server config only; reset before each read
 * of the configuration. The cache itself is per child (child_init). */
#define EARLY_HINTS_CACHE_ENTRIES 1024
#define EARLY_HINTS_CACHE_SECONDS 600
static size_t hint_cache_entries = EARLY_HINTS_CACHE_ENTRIES;
static uint64_t hint_cache_seconds = EARLY_HINTS_CACHE_SECONDS;
static push_redirect_hint_cache *hint_cache;

/* One per scope. PUSH_REDIRECT_UNSET or NULL means "not set here": inherit
 * from the enclosing scope. */
typedef struct {
    int enabled;
    int require_tls;
    int with_credentials;
    int early_hints;
    push_redirect_statuses *statuses;
    push_redirect_excludes *excludes;
    push_redirect_declared_hints *declared_hints;
} push_redirect_conf;

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    push_redirect_conf *conf = apr_pcalloc(p, sizeof(*conf));
    (void)dir;
    conf->enabled = PUSH_REDIRECT_UNSET;
    conf->require_tls = PUSH_REDIRECT_UNSET;
    conf->with_credentials = PUSH_REDIRECT_UNSET;
    conf->early_hints = PUSH_REDIRECT_UNSET;
    return conf;
}

#define MERGE_FLAG(field) \
    (inner->field != PUSH_REDIRECT_UNSET ? inner->field : outer->field)

static void *merge_dir_conf(apr_pool_t *p, void *outer_conf, void *inner_conf)
{
    const push_redirect_conf *outer = outer_conf;
    const push_redirect_conf *inner = inner_conf;
    push_redirect_conf *merged = apr_palloc(p, sizeof(*merged));

    merged->enabled = MERGE_FLAG(enabled);
    merged->require_tls = MERGE_FLAG(require_tls);
    merged->with_credentials = MERGE_FLAG(with_credentials);
    merged->statuses = inner->statuses ? inner->statuses : outer->statuses;
    merged->excludes = inner->excludes ? inner->excludes : outer->excludes;
    merged->early_hints = MERGE_FLAG(early_hints);
    merged->declared_hints = inner->declared_hints ? inner->declared_hints
                                                   : outer->declared_hints;
    return merged;
}

/* ------------------------------------------------------------------ */
/* Directives                                                          */

static const char *directive_error(cmd_parms *cmd, push_redirect_result rv,
                                   const char *message, const char *value)
{
    if (rv == PUSH_REDIRECT_RESULT_INVALID_VALUE) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, message);
    }
    return apr_psprintf(cmd->pool, "%s: internal error (%d) reading '%s'",
                        cmd->cmd->name, (int)rv, value);
}

static apr_status_t free_statuses(void *set)
{
    push_redirect_statuses_free(set);
    return APR_SUCCESS;
}

static apr_status_t free_excludes(void *set)
{
    push_redirect_excludes_free(set);
    return APR_SUCCESS;
}

/* PushRedirect, PushRedirectRequireTLS, PushRedirectWithCredentials: TAKE1
 * rather than FLAG, so that a bad value is named in the error. */
static const char *set_flag(cmd_parms *cmd, void *dir_conf, const char *value)
{
    int *field = (int *)((char *)dir_conf + (apr_size_t)cmd->info);
    char message[256];
    bool flag = false;
    push_redirect_result rv =
        push_redirect_flag_parse(value, &flag, message, sizeof(message));

    if (rv != PUSH_REDIRECT_RESULT_OK) {
        return directive_error(cmd, rv, message, value);
    }
    *field = flag ? 1 : 0;
    return NULL;
}

static const char *set_statuses(cmd_parms *cmd, void *dir_conf,
                                const char *args)
{
    push_redirect_conf *conf = dir_conf;
    push_redirect_statuses *set = NULL;
    char message[512];
    push_redirect_result rv =
        push_redirect_statuses_parse(args, &set, message, sizeof(message));

    if (rv != PUSH_REDIRECT_RESULT_OK) {
        return directive_error(cmd, rv, message, args);
    }
    apr_pool_cleanup_register(cmd->pool, set, free_statuses,
                              apr_pool_cleanup_null);
    conf->statuses = set;
    return NULL;
}

static const char *add_exclude(cmd_parms *cmd, push_redirect_conf *conf,
                               const char *pattern)
{
    char message[512];
    push_redirect_result rv;

    if (!conf->excludes) {
        conf->excludes = push_redirect_excludes_new();
        if (!conf->excludes) {
            return directive_error(cmd, PUSH_REDIRECT_RESULT_PANIC, "",
                                   pattern);
        }
        apr_pool_cleanup_register(cmd->pool, conf->excludes, free_excludes,
                                  apr_pool_cleanup_null);
    }
    rv = push_redirect_excludes_add(conf->excludes, pattern, message,
                                    sizeof(message));
    if (rv != PUSH_REDIRECT_RESULT_OK) {
        return directive_error(cmd, rv, message, pattern);
    }
    return NULL;
}

/* RAW_ARGS split with Apache's own quoting rules rather than ITERATE, which
 * stops at an empty word: `PushRedirectExclude ^/a ""` must be an error,
 * not a silently shorter list. */
static const char *add_excludes(cmd_parms *cmd, void *dir_conf,
                                const char *args)
{
    const char *error;

    if (!*args) {
        return apr_psprintf(cmd->pool, "%s: needs at least one pattern",
                            cmd->cmd->name);
    }
    while (*args) {
        const char *pattern = ap_getword_conf(cmd->temp_pool, &args);

        error = add_exclude(cmd, dir_conf, pattern);
        if (error) {
            return error;
        }
    }
    return NULL;
}

static apr_status_t free_declared_hints(void *set)
{
    push_redirect_declared_hints_free(set);
    return APR_SUCCESS;
}

/* PushRedirectEarlyHint <target-path> "<link-value>": lines accumulate in
 * a scope; a scope that has any replaces the inherited ones. */
static const char *add_declared_hint(cmd_parms *cmd, void *dir_conf,
                                     const char *target_path,
                                     const char *link_value)
{
    push_redirect_conf *conf = dir_conf;
    char message[512];
    push_redirect_result rv;

    if (!conf->declared_hints) {
        conf->declared_hints = push_redirect_declared_hints_new();
        if (!conf->declared_hints) {
            return directive_error(cmd, PUSH_REDIRECT_RESULT_PANIC, "",
                                   link_value);
        }
        apr_pool_cleanup_register(cmd->pool, conf->declared_hints,
                                  free_declared_hints, apr_pool_cleanup_null);
    }
    rv = push_redirect_declared_hints_add(conf->declared_hints, target_path,
                                          link_value, message,
                                          sizeof(message));
    if (rv != PUSH_REDIRECT_RESULT_OK) {
        return directive_error(cmd, rv, message, link_value);
    }
    return NULL;
}

/* PushRedirectEarlyHintsCache <entries> <seconds>: one cache per child, so
 * one setting for the whole server. */
static const char *set_hint_cache(cmd_parms *cmd, void *dir_conf,
                                  const char *args)
{
    char message[512];
    const char *context_error = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    push_redirect_result rv;

    (void)dir_conf;
    if (context_error) {
        return context_error;
    }
    rv = push_redirect_hint_cache_parse(args, &hint_cache_entries,
                                        &hint_cache_seconds, message,
                                        sizeof(message));
    if (rv != PUSH_REDIRECT_RESULT_OK) {
        return directive_error(cmd, rv, message, args);
    }
    return NULL;
}

#define DIRECTIVE_SCOPES (RSRC_CONF | ACCESS_CONF | OR_FILEINFO)

static const command_rec push_redirect_cmds[] = {
    AP_INIT_TAKE1("PushRedirect", set_flag,
                  (void *)APR_OFFSETOF(push_redirect_conf, enabled),
                  DIRECTIVE_SCOPES,
                  "On to add a Link preload to same-origin redirects "
                  "(default Off)"),
    AP_INIT_RAW_ARGS("PushRedirectStatus", set_statuses, NULL,
                     DIRECTIVE_SCOPES,
                     "Redirect statuses to consider, 300-399 "
                     "(default 301 302 303 307 308)"),
    AP_INIT_RAW_ARGS("PushRedirectExclude", add_excludes, NULL,
                     DIRECTIVE_SCOPES,
                     "Regular expressions; a redirect whose target "
                     "path+query matches one is not pushed"),
    AP_INIT_TAKE1("PushRedirectRequireTLS", set_flag,
                  (void *)APR_OFFSETOF(push_redirect_conf, require_tls),
                  DIRECTIVE_SCOPES,
                  "Off to also add the Link on plain-HTTP requests "
                  "(default On)"),
    AP_INIT_TAKE1("PushRedirectWithCredentials", set_flag,
                  (void *)APR_OFFSETOF(push_redirect_conf, with_credentials),
                  DIRECTIVE_SCOPES,
                  "On to push for requests with Cookie or Authorization "
                  "(default Off: a pushed request carries neither)"),
    AP_INIT_TAKE1("PushRedirectEarlyHints", set_flag,
                  (void *)APR_OFFSETOF(push_redirect_conf, early_hints),
                  DIRECTIVE_SCOPES,
                  "On to send a 103 Early Hints with the target's preloads "
                  "before a same-origin redirect over HTTP/2 (default Off)"),
    AP_INIT_TAKE2("PushRedirectEarlyHint", add_declared_hint, NULL,
                  DIRECTIVE_SCOPES,
                  "A target path and a preload or preconnect link-value to "
                  "send in the 103 before redirects to that path"),
    AP_INIT_RAW_ARGS("PushRedirectEarlyHintsCache", set_hint_cache, NULL,
                     RSRC_CONF,
                     "Entries and lifetime in seconds of the per-child cache "
                     "of hints learned from 200 responses (default 1024 600)"),
    {NULL}
};

/* ------------------------------------------------------------------ */
/* The filter                                                          */

static int collect_value(void *values, const char *key, const char *value)
{
    (void)key;
    APR_ARRAY_PUSH((apr_array_header_t *)values, const char *) = value;
    return 1;
}

/* Every value of a response field, as the client will see them: from
 * headers_out and err_headers_out. */
static apr_array_header_t *field_values(request_rec *r, const char *name)
{
    apr_array_header_t *values = apr_array_make(r->pool, 2, sizeof(char *));

    apr_table_do(collect_value, values, r->headers_out, name, NULL);
    apr_table_do(collect_value, values, r->err_headers_out, name, NULL);
    return values;
}

/* The request the client sent, before internal redirects and subrequests. */
static request_rec *initial_request(request_rec *r)
{
    for (;;) {
        if (r->prev) {
            r = r->prev;
        }
        else if (r->main) {
            r = r->main;
        }
        else {
            return r;
        }
    }
}

static int is_http2(request_rec *r)
{
    return h2_is_h2 ? h2_is_h2(r->connection) : r->proto_num >= 2000;
}

/* Whether mod_http2's variable `name` has `value` for this request. Asked
 * through its optional function rather than read from subprocess_env: the
 * fixup that copies them there does not run for redirects made before the
 * handler. */
static int h2_var_is(request_rec *r, const char *name, const char *value)
{
    const char *actual;

    if (!h2_var_lookup) {
        return 0;
    }
    actual = h2_var_lookup(r->pool, r->server, r->connection, r, (char *)name);
    return actual && !strcmp(actual, value);
}

static void *pool_alloc(void *pool, size_t size)
{
    return apr_palloc(pool, size);
}

static const char *location_for_log(request_rec *r,
                                    const apr_array_header_t *locations)
{
    const char *location;

    if (locations->nelts == 0) {
        return "(none)";
    }
    location = APR_ARRAY_IDX(locations, 0, const char *);
    if (strlen(location) > LOG_LOCATION_MAX) {
        location = apr_pstrmemdup(r->pool, location, LOG_LOCATION_MAX);
    }
    return ap_escape_logitem(r->pool, location);
}

static push_redirect_policy policy_of(const push_redirect_conf *conf)
{
    push_redirect_policy policy = {
        .statuses = conf->statuses,
        .excludes = conf->excludes,
        .require_tls = conf->require_tls != 0,
        .with_credentials = conf->with_credentials == 1,
    };
    return policy;
}

/* The core's view of the client's request and of the response as it
 * stands; `locations` is returned for the log lines. */
static push_redirect_exchange exchange_of(request_rec *r,
                                          apr_array_header_t **locations_out)
{
    request_rec *first = initial_request(r);
    int http2 = is_http2(r);
    apr_array_header_t *opt_outs = field_values(r, OPT_OUT_HEADER);
    apr_array_header_t *locations = field_values(r, "Location");
    apr_array_header_t *links = field_values(r, "Link");
    /* Designated initializers: a field the shim does not know of reads as
     * zero, never as stack garbage. */
    push_redirect_exchange exchange = {
        .status = r->status,
        .method = first->method,
        .scheme = ap_http_scheme(first),
        .host = apr_table_get(first->headers_in, "Host"),
        .server_name = ap_get_server_name_for_url(first),
        .server_port = ap_get_server_port(first),
        .request_target = first->unparsed_uri,
        .is_http2 = http2,
        /* H2_PUSH stays "on" on a pushed stream, which mod_http2 never
         * pushes from: H2_PUSHED tells those apart. */
        .h2_push_on = http2 && h2_var_is(r, "H2_PUSH", "on"),
        .is_pushed_stream = http2 && h2_var_is(r, "H2_PUSHED", "PUSHED"),
        .has_cookie = apr_table_get(first->headers_in, "Cookie") != NULL,
        .has_authorization =
            apr_table_get(first->headers_in, "Authorization") != NULL,
        .opt_out_env = apr_table_get(r->subprocess_env, OPT_OUT_ENV) != NULL,
        .opt_out_values = (const char *const *)opt_outs->elts,
        .opt_out_count = opt_outs->nelts,
        .locations = (const char *const *)locations->elts,
        .location_count = locations->nelts,
        .links = (const char *const *)links->elts,
        .link_count = links->nelts,
    };

    if (locations_out) {
        *locations_out = locations;
    }
    return exchange;
}

static void decide_and_apply(request_rec *r, const push_redirect_conf *conf)
{
    request_rec *first = initial_request(r);
    apr_array_header_t *locations;
    push_redirect_exchange exchange = exchange_of(r, &locations);
    push_redirect_policy policy = policy_of(conf);
    push_redirect_verdict verdict;
    push_redirect_result rv;

    rv = push_redirect_decide(&policy, &exchange, pool_alloc, r->pool,
                              &verdict);

    switch (verdict.outcome) {
    case PUSH_REDIRECT_OUTCOME_PUSH:
        apr_table_addn(r->headers_out, "Link", verdict.link_value);
        apr_table_setn(r->subprocess_env, PUSHED_ENV, verdict.target);
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "push %s for %d to %s %s (Location: %s)",
                      verdict.target, r->status, first->method,
                      first->unparsed_uri, location_for_log(r, locations));
        break;
    case PUSH_REDIRECT_OUTCOME_SKIP:
        apr_table_setn(r->subprocess_env, SKIPPED_ENV, verdict.reason);
        if (rv != PUSH_REDIRECT_RESULT_OK
            || !strcmp(verdict.reason, INTERNAL_ERROR)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRLOGNO(0001)
                          "internal error (%d) deciding on the %d response "
                          "to %s; sent unchanged (Location: %s)",
                          (int)rv, r->status, first->unparsed_uri,
                          location_for_log(r, locations));
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                          "skip (%s) for %d to %s %s (Location: %s)",
                          verdict.reason, r->status, first->method,
                          first->unparsed_uri, location_for_log(r, locations));
        }
        break;
    case PUSH_REDIRECT_OUTCOME_NOT_REDIRECT:
        break;
    }
}

static uint64_t now_seconds(void)
{
    return (uint64_t)apr_time_sec(apr_time_now());
}

/* Sends `link_value` as the one field of a 103 on this stream, before the
 * response itself: mod_http2 turns it into a HEADERS frame (with
 * H2EarlyHints on; without, it drops it). ap_send_interim_response sends
 * and then clears r->headers_out, so it gets a table of its own.
 *
 * mod_http2 pushes from a 103's preloads as from any response, and the
 * hints cannot say `nopush` (Chromium then ignores them). The browser is
 * to fetch them itself, with its cookies, so pushes are turned off for the
 * 103 alone with mod_http2's own connection note, which it reads from the
 * stream's connection when it parses an interim response and sets itself
 * for `H2Push off` scopes. The redirect's own push (PushRedirect) is not
 * affected: the note is restored before the redirect goes on. */
#define H2_PUSH_MODE_NOTE "http2-push-mode"

static void send_early_hints(request_rec *r, const char *link_value)
{
    apr_table_t *headers_out = r->headers_out;
    int status = r->status;
    const char *status_line = r->status_line;
    apr_table_t *notes = r->connection->notes;
    const char *push_mode = apr_table_get(notes, H2_PUSH_MODE_NOTE);

    r->headers_out = apr_table_make(r->pool, 1);
    apr_table_setn(r->headers_out, "Link", link_value);
    r->status = 103;
    r->status_line = "103 Early Hints";
    apr_table_setn(notes, H2_PUSH_MODE_NOTE, "0");
    ap_send_interim_response(r, 1);
    if (push_mode) {
        apr_table_setn(notes, H2_PUSH_MODE_NOTE, push_mode);
    }
    else {
        apr_table_unset(notes, H2_PUSH_MODE_NOTE);
    }
    r->headers_out = headers_out;
    r->status = status;
    r->status_line = status_line;
}

static void early_hints_for_redirect(request_rec *r,
                                     const push_redirect_conf *conf)
{
    apr_array_header_t *locations;
    push_redirect_exchange exchange = exchange_of(r, &locations);
    push_redirect_policy policy = policy_of(conf);
    push_redirect_verdict verdict;
    push_redirect_result rv;

    rv = push_redirect_early_hints(&policy, conf->declared_hints, hint_cache,
                                   &exchange, now_seconds(), pool_alloc,
                                   r->pool, &verdict);
    switch (verdict.outcome) {
    case PUSH_REDIRECT_OUTCOME_PUSH:
        send_early_hints(r, verdict.link_value);
        apr_table_setn(r->subprocess_env, EARLY_HINTS_ENV, verdict.target);
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "early hints for %s sent before the %d: %s",
                      verdict.target, r->status,
                      ap_escape_logitem(r->pool, verdict.link_value));
        break;
    case PUSH_REDIRECT_OUTCOME_SKIP:
        apr_table_setn(r->subprocess_env, EARLY_HINTS_SKIPPED_ENV,
                       verdict.reason);
        if (rv != PUSH_REDIRECT_RESULT_OK
            || !strcmp(verdict.reason, INTERNAL_ERROR)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRLOGNO(0003)
                          "internal error (%d) choosing early hints for the "
                          "%d response; none sent (Location: %s)",
                          (int)rv, r->status, location_for_log(r, locations));
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                          "no early hints (%s) for %d (Location: %s)",
                          verdict.reason, r->status,
                          location_for_log(r, locations));
        }
        break;
    case PUSH_REDIRECT_OUTCOME_NOT_REDIRECT:
        break;
    }
}

/* A 200 teaches the cache the hints in its Link fields (or that it has
 * none any more). */
static void learn_hints(request_rec *r, const push_redirect_conf *conf)
{
    push_redirect_exchange exchange = exchange_of(r, NULL);
    push_redirect_policy policy = policy_of(conf);
    size_t learned = push_redirect_hint_cache_learn(hint_cache, &policy,
                                                    &exchange, now_seconds());

    if (learned > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "learned %" APR_SIZE_T_FMT " early hints for %s",
                      learned, initial_request(r)->uri);
    }
}

/* Decides once, on the first brigade, when the headers are final and before
 * mod_http2 or the HTTP/1 header filter reads them; then steps aside. */
static apr_status_t push_redirect_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const push_redirect_conf *conf;

    if (APR_BRIGADE_EMPTY(bb)) {
        return APR_SUCCESS;
    }
    conf = ap_get_module_config(r->per_dir_config, &push_redirect_module);
    if (push_redirect_statuses_contain(conf->statuses, r->status)) {
        /* The 103 goes out first, before anything of the redirect. */
        if (conf->early_hints == 1) {
            early_hints_for_redirect(r, conf);
        }
        if (conf->enabled == 1) {
            decide_and_apply(r, conf);
        }
    }
    else if (r->status == HTTP_OK && conf->early_hints == 1 && hint_cache) {
        learn_hints(r, conf);
    }
    apr_table_unset(r->headers_out, OPT_OUT_HEADER);
    apr_table_unset(r->err_headers_out, OPT_OUT_HEADER);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* From insert_filter for responses made by a handler, and from
 * insert_error_filter for those made by ap_send_error_response (mod_alias,
 * mod_rewrite [R], mod_dir, ErrorDocument), which drops the filters added
 * before it. Subrequests never reach the client as such: left alone. */
static void insert_filter(request_rec *r)
{
    const push_redirect_conf *conf =
        ap_get_module_config(r->per_dir_config, &push_redirect_module);

    if ((conf->enabled == 1 || conf->early_hints == 1) && !r->main) {
        ap_add_output_filter(FILTER_NAME, NULL, r, r->connection);
    }
}

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    hint_cache_entries = EARLY_HINTS_CACHE_ENTRIES;
    hint_cache_seconds = EARLY_HINTS_CACHE_SECONDS;
    return OK;
}

static int is_directive(const ap_directive_t *node, const char *name)
{
    return node->directive && !strcasecmp(node->directive, name);
}

/* Whether `node`'s first argument is `on`, in any case. */
static int is_on(apr_pool_t *p, const ap_directive_t *node)
{
    const char *args = node->args ? node->args : "";

    return !strcasecmp(ap_getword_conf(p, &args), "on");
}

/* What a server's part of the configuration says: its last H2EarlyHints
 * (-1: none; a server and virtual-host directive, perhaps inside <IfModule>)
 * and its first PushRedirectEarlyHints On at any depth. <VirtualHost>
 * sections below `node` are left out, as they are servers of their own. */
typedef struct {
    int h2_early_hints;
    const ap_directive_t *early_hints_on;
} early_hints_scan;

static void scan_server_part(apr_pool_t *p, const ap_directive_t *node,
                             early_hints_scan *scan)
{
    for (; node; node = node->next) {
        if (is_directive(node, "<VirtualHost")) {
            continue;
        }
        if (is_directive(node, "H2EarlyHints")) {
            scan->h2_early_hints = is_on(p, node);
        }
        else if (is_directive(node, "PushRedirectEarlyHints")
                 && is_on(p, node) && !scan->early_hints_on) {
            scan->early_hints_on = node;
        }
        scan_server_part(p, node->first_child, scan);
    }
}

static void warn_without_h2_early_hints(server_rec *s, const char *where,
                                        const ap_directive_t *on)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PRLOGNO(0004)
                 "PushRedirectEarlyHints On (%s:%d) applies to %s, where "
                 "H2EarlyHints is not on: mod_http2 drops every 103, so no "
                 "early hints reach clients; add `H2EarlyHints on`",
                 on->filename, on->line_num, where);
}

static void find_virtual_hosts(apr_pool_t *p, server_rec *s,
                               const ap_directive_t *node,
                               const early_hints_scan *main_scan)
{
    for (; node; node = node->next) {
        if (is_directive(node, "<VirtualHost")) {
            early_hints_scan scan = *main_scan;

            scan_server_part(p, node->first_child, &scan);
            if (scan.early_hints_on && scan.h2_early_hints != 1) {
                warn_without_h2_early_hints(
                    s, apr_psprintf(p, "<VirtualHost %s> (%s:%d)", node->args,
                                    node->filename, node->line_num),
                    scan.early_hints_on);
            }
        }
        else {
            find_virtual_hosts(p, s, node->first_child, main_scan);
        }
    }
}

/* mod_http2 forwards a 103 only with `H2EarlyHints on` (a server and
 * virtual-host setting it does not expose): read the configuration tree
 * once at startup and warn for each server where PushRedirectEarlyHints is
 * On and H2EarlyHints is not. .htaccess files are not seen. */
static void check_h2_early_hints(apr_pool_t *p, server_rec *s)
{
    early_hints_scan main_scan = {-1, NULL};

    scan_server_part(p, ap_conftree, &main_scan);
    if (main_scan.early_hints_on && main_scan.h2_early_hints != 1) {
        warn_without_h2_early_hints(s, "the main server", main_scan.early_hints_on);
    }
    find_virtual_hosts(p, s, ap_conftree, &main_scan);
}

/* mod_http2 registers its optional functions from its register_hooks, so
 * they are known by post_config whatever the LoadModule order. */
static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    (void)pconf;
    (void)plog;
    h2_var_lookup = APR_RETRIEVE_OPTIONAL_FN(http2_var_lookup);
    /* Once per start or restart: the first post_config of httpd's startup
     * only checks the configuration. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        check_h2_early_hints(ptemp, s);
    }
    h2_is_h2 = APR_RETRIEVE_OPTIONAL_FN(http2_is_h2);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PRLOGNO(0002)
                 "mod_push_redirect %s loaded%s", push_redirect_version(),
                 h2_var_lookup ? "" : "; mod_http2 is not loaded, so nothing "
                                      "can be pushed (HTTP/1.1 still gets "
                                      "the Link)");
    return OK;
}

static apr_status_t free_hint_cache(void *cache)
{
    push_redirect_hint_cache_free(cache);
    hint_cache = NULL;
    return APR_SUCCESS;
}

/* The learned hints live in each child, shared by its threads. */
static void child_init(apr_pool_t *pchild, server_rec *s)
{
    hint_cache = push_redirect_hint_cache_new(hint_cache_entries,
                                              hint_cache_seconds);
    ap_log_error(APLOG_MARK, APLOG_TRACE1, 0, s,
                 "early hints cache: %" APR_SIZE_T_FMT " entries, %"
                 APR_UINT64_T_FMT " s", hint_cache_entries,
                 (apr_uint64_t)hint_cache_seconds);
    if (hint_cache) {
        apr_pool_cleanup_register(pchild, hint_cache, free_hint_cache,
                                  apr_pool_cleanup_null);
    }
}

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    /* The last content filter type, just before the protocol filters that
     * turn headers_out into the response (HTTP_HEADER, mod_http2's
     * H2_C2_RESPONSE_OUT): the headers are final there. At CONTENT_SET we
     * would run before mod_headers when LoadModule lists us first (so a
     * `Header set X-Push-Redirect off` would be missed and leak) and before
     * mod_cache's CACHE_SAVE/CACHE_OUT (CONTENT_SET + 1), so our Link would be
     * cached and replayed on hits without a decision. */
    ap_register_output_filter(FILTER_NAME, push_redirect_filter, NULL,
                              AP_FTYPE_PROTOCOL - 1);
    ap_hook_insert_filter(insert_filter, NULL, NULL, APR_HOOK_LAST);
    ap_hook_insert_error_filter(insert_filter, NULL, NULL, APR_HOOK_LAST);
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(push_redirect) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    NULL,
    NULL,
    push_redirect_cmds,
    register_hooks
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    , AP_MODULE_FLAG_NONE
#endif
};
