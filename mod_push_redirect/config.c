/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The directives and the per-directory configuration: each directive read
 * by its own function into the scope's settings (the sets of patterns and
 * hints compiled and checked by the core), merged inner-if-set.
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

#define INNER_IF_SET(field, unset) \
    merged->field = inner->field != (unset) ? inner->field : outer->field

/* Each directive inner-if-set; a set (patterns, hints) is shared, not
 * copied: it stays the scope's that read it. */
void *push_redirect_merge_dir_conf(apr_pool_t *p, void *outer_conf,
                                   void *inner_conf)
{
    const push_redirect_conf *outer = outer_conf, *inner = inner_conf;
    push_redirect_conf *merged = apr_pcalloc(p, sizeof(*merged));

    INNER_IF_SET(push, PUSH_REDIRECT_SWITCH_UNSET);
    INNER_IF_SET(require_tls, PUSH_REDIRECT_SWITCH_UNSET);
    INNER_IF_SET(with_credentials, PUSH_REDIRECT_SWITCH_UNSET);
    INNER_IF_SET(early_hints, PUSH_REDIRECT_SWITCH_UNSET);
    INNER_IF_SET(ahead, PUSH_REDIRECT_SWITCH_UNSET);
    INNER_IF_SET(from_html, PUSH_REDIRECT_SWITCH_UNSET);
    INNER_IF_SET(early_hints_http1, PUSH_REDIRECT_SWITCH_UNSET);
    merged->statuses = inner->statuses.bits[0] || inner->statuses.bits[1]
                           ? inner->statuses : outer->statuses;
    INNER_IF_SET(excludes, NULL);
    INNER_IF_SET(declared_hints, NULL);
    merged->server_sends_hints =
        inner->server_sends_hints || outer->server_sends_hints;
    push_redirect_settings_resolve(merged);
    return merged;
}

/* Apache prints a directive's error as it is: the message names the
 * value, and the directive is added here. */
static const char *directive_error(cmd_parms *cmd, const char *message)
{
    return message ? apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, message)
                   : NULL;
}

/* Every directive's last step: the core works out again what the scope's
 * values imply (push_redirect_settings_resolve), so nothing derived goes
 * stale. */
static const char *resolved(push_redirect_conf *conf, const char *error)
{
    push_redirect_settings_resolve(conf);
    return error;
}

/* `value` in an error message: quoted, and cut to 120 bytes (not inside a
 * UTF-8 sequence; with its length) when longer, as the core cuts the
 * values it names. */
const char *push_redirect_quoted(apr_pool_t *p, const char *value)
{
    apr_size_t len = strlen(value), cut = 120;

    if (len <= cut) {
        return apr_psprintf(p, "'%s'", value);
    }
    while (cut > 0 && ((unsigned char)value[cut] & 0xc0) == 0x80) {
        cut--;
    }
    return apr_psprintf(p, "'%.*s...' (%" APR_SIZE_T_FMT " bytes)", (int)cut,
                        value, len);
}

/* The switches: the field of the settings is the command's info (TAKE1
 * rather than FLAG, so that a bad value is named in the error). */
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
    else {
        return apr_psprintf(cmd->pool, "%s: %s is not On or Off",
                            cmd->cmd->name, push_redirect_quoted(cmd->pool, value));
    }
    return resolved(dir_conf, NULL);
}

/* PushRedirectEarlyHints. A 200 teaches the store only where a 103 can go
 * out in its virtual host: a line of the server's own configuration that
 * turns it on marks the server's defaults, which every request of the
 * virtual host merges from (a main-server line reaches them through
 * them). An .htaccess file, read per request, counts for its own scope
 * only. */
static const char *set_early_hints(cmd_parms *cmd, void *dir_conf,
                                   const char *value)
{
    const char *error = set_switch(cmd, dir_conf, value);
    const push_redirect_conf *conf = dir_conf;

    if (!error && conf->early_hints == PUSH_REDIRECT_SWITCH_ON
        && !ap_check_cmd_context(cmd, NOT_IN_HTACCESS)) {
        push_redirect_conf *server = ap_get_module_config(
            cmd->server->lookup_defaults, &push_redirect_module);

        /* A virtual host where no line of this module's stands outside a
         * section has no defaults of its own yet: made as Apache makes a
         * scope's on its first line. */
        if (!server) {
            server = push_redirect_create_dir_conf(cmd->pool, NULL);
            ap_set_module_config(cmd->server->lookup_defaults,
                                 &push_redirect_module, server);
        }
        server->server_sends_hints = 1;
        resolved(server, NULL);
    }
    return error;
}

/* PushRedirectStatus code...: whole decimal numbers from 300 to 399, which
 * replace the inherited list. */
static const char *set_statuses(cmd_parms *cmd, void *dir_conf,
                                const char *args)
{
    push_redirect_conf *conf = dir_conf;
    push_redirect_statuses statuses = {{0, 0}};
    const char *word;

    while (*(word = ap_getword_white(cmd->temp_pool, &args))) {
        apr_int64_t code = 0;
        apr_size_t digits = strspn(word, "0123456789");

        if (digits != strlen(word) || digits > 3) {
            return apr_psprintf(cmd->pool, "%s: %s is not a status code "
                                "(expected a number from 300 to 399)",
                                cmd->cmd->name, push_redirect_quoted(cmd->pool, word));
        }
        code = apr_strtoi64(word, NULL, 10);
        if (code < 300 || code > 399) {
            return apr_psprintf(cmd->pool, "%s: %s is not a redirect status "
                                "(expected 300 to 399)", cmd->cmd->name,
                                push_redirect_quoted(cmd->pool, word));
        }
        statuses.bits[(code - 300) / 64] |= (apr_uint64_t)1 << ((code - 300) % 64);
    }
    if (!statuses.bits[0] && !statuses.bits[1]) {
        return apr_psprintf(cmd->pool, "%s: needs at least one status code "
                            "(300 to 399)", cmd->cmd->name);
    }
    conf->statuses = statuses;
    return resolved(conf, NULL);
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

/* PushRedirectExclude regex...: RAW_ARGS split with Apache's own quoting
 * rules rather than ITERATE, which stops at an empty word:
 * `PushRedirectExclude ^/a ""` must be an error, not a silently shorter
 * list. The scope's set is made by its first line, in the pool the scope
 * is read in, and compiled by the core. */
static const char *add_excludes(cmd_parms *cmd, void *dir_conf,
                                const char *args)
{
    push_redirect_conf *conf = dir_conf;
    const char *message = NULL;

    if (!*args) {
        return apr_psprintf(cmd->pool, "%s: needs at least one pattern",
                            cmd->cmd->name);
    }
    if (!conf->excludes) {
        conf->excludes = push_redirect_excludes_new();
        apr_pool_cleanup_register(cmd->pool, conf->excludes, free_excludes,
                                  apr_pool_cleanup_null);
    }
    while (*args && !message) {
        message = push_redirect_excludes_add(
            conf->excludes, ap_getword_conf(cmd->temp_pool, &args),
            push_redirect_pool_alloc, cmd->pool);
    }
    return resolved(conf, directive_error(cmd, message));
}

/* PushRedirectEarlyHint <target-path> "<link-value>": lines accumulate in
 * a scope, checked by the core. */
static const char *add_declared_hint(cmd_parms *cmd, void *dir_conf,
                                     const char *path, const char *value)
{
    push_redirect_conf *conf = dir_conf;
    const char *message;

    if (!conf->declared_hints) {
        conf->declared_hints = push_redirect_declared_hints_new();
        apr_pool_cleanup_register(cmd->pool, conf->declared_hints,
                                  free_declared_hints, apr_pool_cleanup_null);
    }
    message = push_redirect_declared_hints_add(conf->declared_hints, path,
                                               value, push_redirect_pool_alloc,
                                               cmd->pool);
    return resolved(conf, directive_error(cmd, message));
}

#define DIRECTIVE_SCOPES (RSRC_CONF | ACCESS_CONF | OR_FILEINFO)
/* A switch read by set_switch into the field of the settings. */
#define SWITCH(name, field, help) \
    AP_INIT_TAKE1(name, set_switch, \
                  (void *)APR_OFFSETOF(push_redirect_conf, field), \
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
    AP_INIT_TAKE1("PushRedirectEarlyHints", set_early_hints,
                  (void *)APR_OFFSETOF(push_redirect_conf, early_hints),
                  DIRECTIVE_SCOPES,
                  "On to send a 103 Early Hints with the target's preloads "
                  "before a same-origin redirect over HTTP/2 (default Off)"),
    SWITCH("PushRedirectEarlyHintsAhead", ahead,
           "On to send the 103 before the handler runs, from what this URL "
           "led to last time (default Off; with PushRedirectEarlyHints On)"),
    SWITCH("PushRedirectEarlyHintsFromHTML", from_html,
           "Off to learn a page's hints from its Link fields only, "
           "not from its HTML (default On)"),
    /* Behind a proxy (docs/behind-a-proxy.md). */
    SWITCH("PushRedirectEarlyHintsHTTP1", early_hints_http1,
           "On to send the 103 over HTTP/1.1 too, for a proxy in front "
           "that relays it; never to HTTP/1.0 (default Off)"),
    /* PushRedirectEarlyHint <target-path> "<link-value>" */
    AP_INIT_TAKE2("PushRedirectEarlyHint", add_declared_hint, NULL,
                  DIRECTIVE_SCOPES,
                  "A target path and a preload or preconnect link-value to "
                  "send in the 103 before redirects to that path"),
    HINT_STORE_COMMANDS,
    {NULL}
};
