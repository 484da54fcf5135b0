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
    /* All zero: every directive unset. The sets its directives make go
     * with the pool it lives in, which is the one they are read in. */
    push_redirect_conf *conf = apr_pcalloc(p, sizeof(*conf));

    (void)dir;
    push_redirect_settings_resolve(conf);
    apr_pool_cleanup_register(p, conf, push_redirect_settings_release,
                              apr_pool_cleanup_null);
    return conf;
}

void *push_redirect_merge_dir_conf(apr_pool_t *p, void *outer, void *inner)
{
    push_redirect_conf *merged = apr_palloc(p, sizeof(*merged));

    push_redirect_settings_merge(merged, outer, inner);
    return merged;
}

const char *push_redirect_directive_error(cmd_parms *cmd,
                                          push_redirect_result rv,
                                          const char *message)
{
    return rv == PUSH_REDIRECT_RESULT_OK
               ? NULL : apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, message);
}

/* One line of a directive of this module into this scope's settings: the
 * core reads the values for the directive. */
static const char *read_values(cmd_parms *cmd, void *dir_conf,
                               const char *value, const char *value2)
{
    char message[512];
    push_redirect_result rv = push_redirect_settings_read(
        dir_conf, cmd->cmd->name, value, value2, message, sizeof(message));

    /* Every request of a virtual host merges from its server's defaults,
     * which a main-server line reaches through them. An .htaccess file,
     * read per request, counts for its own scope only. */
    if (!ap_check_cmd_context(cmd, NOT_IN_HTACCESS)) {
        push_redirect_settings_mark_server(
            ap_get_module_config(cmd->server->lookup_defaults,
                                 &push_redirect_module), dir_conf);
    }

    return push_redirect_directive_error(cmd, rv, message);
}

/* PushRedirect, PushRedirectRequireTLS, PushRedirectWithCredentials,
 * PushRedirectEarlyHints, PushRedirectEarlyHintsAhead (TAKE1 rather than FLAG, so that a bad value is
 * named in the error), PushRedirectStatus, and each pattern of
 * PushRedirectExclude. */
static const char *read_value(cmd_parms *cmd, void *dir_conf,
                              const char *value)
{
    return read_values(cmd, dir_conf, value, NULL);
}

/* RAW_ARGS split with Apache's own quoting rules rather than ITERATE, which
 * stops at an empty word: `PushRedirectExclude ^/a ""` must be an error,
 * not a silently shorter list. */
static const char *add_excludes(cmd_parms *cmd, void *dir_conf,
                                const char *args)
{
    const char *error = NULL;

    if (!*args) {
        return apr_psprintf(cmd->pool, "%s: needs at least one pattern",
                            cmd->cmd->name);
    }
    while (*args && !error) {
        error = read_value(cmd, dir_conf, ap_getword_conf(cmd->temp_pool, &args));
    }
    return error;
}

/* The switches read here, as every directive is to be: the field of the
 * settings is the command's info (TAKE1 rather than FLAG, so that a bad
 * value is named in the error, cut as the core cuts one). */
static const char *set_switch(cmd_parms *cmd, void *dir_conf,
                              const char *value)
{
    push_redirect_switch *field =
        (push_redirect_switch *)((char *)dir_conf + (size_t)cmd->info);

    if (!strcasecmp(value, "on")) {
        *field = PUSH_REDIRECT_SWITCH_ON;
    }
    else if (!strcasecmp(value, "off")) {
        *field = PUSH_REDIRECT_SWITCH_OFF;
    }
    else if (strlen(value) <= 120) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not On or Off",
                            cmd->cmd->name, value);
    }
    else {
        return apr_psprintf(cmd->pool, "%s: '%.120s...' (%" APR_SIZE_T_FMT
                            " bytes) is not On or Off", cmd->cmd->name, value,
                            strlen(value));
    }
    return NULL;
}

#define DIRECTIVE_SCOPES (RSRC_CONF | ACCESS_CONF | OR_FILEINFO)
#define SWITCH(name, help) \
    AP_INIT_TAKE1(name, read_value, NULL, DIRECTIVE_SCOPES, help)
/* A switch read by set_switch into the field of the settings. */
#define OWN_SWITCH(name, field, help) \
    AP_INIT_TAKE1(name, set_switch, \
                  (void *)APR_OFFSETOF(push_redirect_conf, field), \
                  DIRECTIVE_SCOPES, help)

const command_rec push_redirect_cmds[] = {
    SWITCH("PushRedirect",
           "On to add a Link preload to same-origin redirects "
           "(default Off)"),
    AP_INIT_RAW_ARGS("PushRedirectStatus", read_value, NULL,
                     DIRECTIVE_SCOPES,
                     "Redirect statuses to consider, 300-399 "
                     "(default 301 302 303 307 308)"),
    AP_INIT_RAW_ARGS("PushRedirectExclude", add_excludes, NULL,
                     DIRECTIVE_SCOPES,
                     "Regular expressions; a redirect whose target "
                     "path+query matches one is not pushed"),
    SWITCH("PushRedirectRequireTLS",
           "Off to also add the Link on plain-HTTP requests (default On)"),
    SWITCH("PushRedirectWithCredentials",
           "On to push for requests with Cookie or Authorization "
           "(default Off: a pushed request carries neither)"),
    SWITCH("PushRedirectEarlyHints",
           "On to send a 103 Early Hints with the target's preloads "
           "before a same-origin redirect over HTTP/2 (default Off)"),
    SWITCH("PushRedirectEarlyHintsAhead",
           "On to send the 103 before the handler runs, from what this URL "
           "led to last time (default Off; with PushRedirectEarlyHints On)"),
    OWN_SWITCH("PushRedirectEarlyHintsFromHTML", from_html,
               "Off to learn a page's hints from its Link fields only, "
               "not from its HTML (default On)"),
    /* Behind a proxy (docs/behind-a-proxy.md). */
    OWN_SWITCH("PushRedirectEarlyHintsHTTP1", early_hints_http1,
               "On to send the 103 over HTTP/1.1 too, for a proxy in front "
               "that relays it; never to HTTP/1.0 (default Off)"),
    /* PushRedirectEarlyHint <target-path> "<link-value>" */
    AP_INIT_TAKE2("PushRedirectEarlyHint", read_values, NULL,
                  DIRECTIVE_SCOPES,
                  "A target path and a preload or preconnect link-value to "
                  "send in the 103 before redirects to that path"),
    HINT_STORE_COMMANDS,
    {NULL}
};
