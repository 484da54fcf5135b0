/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The directives and the per-directory configuration: values are parsed
 * and checked by the core, kept as written, and merged inner-if-set.
 */

#include "push_redirect_private.h"
#include "hint_store.h"

#include "http_config.h"
#include "http_log.h"

#include "apr_strings.h"

APLOG_USE_MODULE(push_redirect);

void *push_redirect_create_dir_conf(apr_pool_t *p, char *dir)
{
    /* All zero: every directive unset. */
    push_redirect_conf *conf = apr_pcalloc(p, sizeof(*conf));

    (void)dir;
    push_redirect_settings_resolve(conf);
    return conf;
}

#define MERGE_SWITCH(field) \
    (inner->field != PUSH_REDIRECT_SWITCH_UNSET ? inner->field : outer->field)
#define MERGE_POINTER(field) (inner->field ? inner->field : outer->field)

void *push_redirect_merge_dir_conf(apr_pool_t *p, void *outer_conf,
                                   void *inner_conf)
{
    const push_redirect_conf *outer = outer_conf;
    const push_redirect_conf *inner = inner_conf;
    push_redirect_conf *merged = apr_palloc(p, sizeof(*merged));

    merged->push = MERGE_SWITCH(push);
    merged->require_tls = MERGE_SWITCH(require_tls);
    merged->with_credentials = MERGE_SWITCH(with_credentials);
    merged->early_hints = MERGE_SWITCH(early_hints);
    merged->ahead = MERGE_SWITCH(ahead);
    merged->statuses = inner->statuses.bits[0] || inner->statuses.bits[1]
                           ? inner->statuses : outer->statuses;
    merged->excludes = MERGE_POINTER(excludes);
    merged->declared_hints = MERGE_POINTER(declared_hints);
    push_redirect_settings_resolve(merged);
    return merged;
}

static const char *directive_error(cmd_parms *cmd, push_redirect_result rv,
                                   const char *message, const char *value)
{
    if (rv == PUSH_REDIRECT_RESULT_INVALID_VALUE) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, message);
    }
    return apr_psprintf(cmd->pool, "%s: internal error (%d) reading '%s'",
                        cmd->cmd->name, (int)rv, value);
}

static apr_status_t free_excludes(void *set)
{
    push_redirect_excludes_free(set);
    return APR_SUCCESS;
}

static apr_status_t free_declared_hints(void *set)
{
    push_redirect_declared_hints_free(set);
    return APR_SUCCESS;
}

/* The set a repeatable directive adds to in this scope, made on its first
 * line and released with the configuration's pool. */
static void *scope_set(cmd_parms *cmd, void **slot, void *(*make)(void),
                       apr_status_t (*release)(void *))
{
    if (!*slot) {
        *slot = make();
        if (*slot) {
            apr_pool_cleanup_register(cmd->pool, *slot, release,
                                      apr_pool_cleanup_null);
        }
    }
    return *slot;
}

static void *new_excludes(void)
{
    return push_redirect_excludes_new();
}

static void *new_declared_hints(void)
{
    return push_redirect_declared_hints_new();
}

/* PushRedirect, PushRedirectRequireTLS, PushRedirectWithCredentials,
 * PushRedirectEarlyHints, PushRedirectEarlyHintsAhead: TAKE1 rather than FLAG, so that a bad value is
 * named in the error. */
static const char *set_switch(cmd_parms *cmd, void *dir_conf,
                              const char *value)
{
    push_redirect_switch *field =
        (push_redirect_switch *)((char *)dir_conf + (apr_size_t)cmd->info);
    char message[256];
    push_redirect_result rv =
        push_redirect_switch_parse(value, field, message, sizeof(message));

    push_redirect_settings_resolve(dir_conf);
    return rv == PUSH_REDIRECT_RESULT_OK
               ? NULL : directive_error(cmd, rv, message, value);
}

static const char *set_statuses(cmd_parms *cmd, void *dir_conf,
                                const char *args)
{
    push_redirect_conf *conf = dir_conf;
    char message[512];
    push_redirect_result rv = push_redirect_statuses_parse(
        args, &conf->statuses, message, sizeof(message));

    push_redirect_settings_resolve(conf);
    return rv == PUSH_REDIRECT_RESULT_OK
               ? NULL : directive_error(cmd, rv, message, args);
}

/* RAW_ARGS split with Apache's own quoting rules rather than ITERATE, which
 * stops at an empty word: `PushRedirectExclude ^/a ""` must be an error,
 * not a silently shorter list. */
static const char *add_excludes(cmd_parms *cmd, void *dir_conf,
                                const char *args)
{
    push_redirect_conf *conf = dir_conf;
    char message[512];

    if (!*args) {
        return apr_psprintf(cmd->pool, "%s: needs at least one pattern",
                            cmd->cmd->name);
    }
    while (*args) {
        const char *pattern = ap_getword_conf(cmd->temp_pool, &args);
        push_redirect_excludes *set = scope_set(
            cmd, (void **)&conf->excludes, new_excludes, free_excludes);
        push_redirect_result rv = push_redirect_excludes_add(
            set, pattern, message, sizeof(message));

        if (rv != PUSH_REDIRECT_RESULT_OK) {
            return directive_error(cmd, rv, message, pattern);
        }
    }
    return NULL;
}

/* PushRedirectEarlyHint <target-path> "<link-value>": lines accumulate in
 * a scope; a scope that has any replaces the inherited ones. */
static const char *add_declared_hint(cmd_parms *cmd, void *dir_conf,
                                     const char *target_path,
                                     const char *link_value)
{
    push_redirect_conf *conf = dir_conf;
    char message[512];
    push_redirect_declared_hints *set =
        scope_set(cmd, (void **)&conf->declared_hints, new_declared_hints,
                  free_declared_hints);
    push_redirect_result rv = push_redirect_declared_hints_add(
        set, target_path, link_value, message, sizeof(message));

    return rv == PUSH_REDIRECT_RESULT_OK
               ? NULL : directive_error(cmd, rv, message, link_value);
}

#define DIRECTIVE_SCOPES (RSRC_CONF | ACCESS_CONF | OR_FILEINFO)
#define SWITCH(name, field, help)                                      \
    AP_INIT_TAKE1(name, set_switch,                                    \
                  (void *)APR_OFFSETOF(push_redirect_conf, field),     \
                  DIRECTIVE_SCOPES, help)

const command_rec push_redirect_cmds[] = {
    SWITCH("PushRedirect", push,
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
    SWITCH("PushRedirectRequireTLS", require_tls,
           "Off to also add the Link on plain-HTTP requests (default On)"),
    SWITCH("PushRedirectWithCredentials", with_credentials,
           "On to push for requests with Cookie or Authorization "
           "(default Off: a pushed request carries neither)"),
    SWITCH("PushRedirectEarlyHints", early_hints,
           "On to send a 103 Early Hints with the target's preloads "
           "before a same-origin redirect over HTTP/2 (default Off)"),
    SWITCH("PushRedirectEarlyHintsAhead", ahead,
           "On to send the 103 before the handler runs, from what this URL "
           "led to last time (default Off; with PushRedirectEarlyHints On)"),
    AP_INIT_TAKE2("PushRedirectEarlyHint", add_declared_hint, NULL,
                  DIRECTIVE_SCOPES,
                  "A target path and a preload or preconnect link-value to "
                  "send in the 103 before redirects to that path"),
    HINT_STORE_COMMANDS,
    {NULL}
};
