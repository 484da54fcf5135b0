/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The push-redirect-info handler (docs/operating.md): for ?url=/path?query
 * of this virtual host, the record learned for that URL, the chain it
 * leads to and the 103 a fresh anonymous navigation to it would get, or
 * why none (the core's explanation: push_redirect_info); a POST with
 * ?forget=/path?query drops that URL's records. HTML for a person,
 * ?format=json for a script (info_page.c writes both). Who may ask is
 * the administrator's Require, as for mod_info's server-info.
 *
 * The URL's own settings are those a lookup subrequest for it finds, as
 * mod_dir and mod_negotiation make: its <Location>, <Directory> and
 * .htaccess scopes, its opt-out variable.
 */

#include "push_redirect_private.h"
#include "hint_store.h"
#include "store_call.h"
#include "store_threads.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"

#include "apr_strings.h"

#define HANDLER "push-redirect-info"

/* The value of the query's field `name`, decoded as a form's (`+` is a
 * space); NULL when it is absent. A value that does not decode (a `%00`,
 * a bad escape) sets *bad. */
static char *field(request_rec *r, const char *name, int *bad)
{
    const char *p = r->args;
    size_t n = strlen(name);

    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len > n && !strncmp(p, name, n) && p[n] == '=') {
            char *value = apr_pstrmemdup(r->pool, p + n + 1, len - n - 1);

            *bad |= ap_unescape_urlencoded(value) != OK;
            return value;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* A fresh anonymous navigation to `url` from the client that asks: the
 * exchange the filter would read of it before a response. It carries no
 * field of the asking request but its Host and the proxy's
 * X-Forwarded-Proto (which the core reads only from a proxy Apache
 * trusts); the core makes it a GET over HTTP/2 without credentials
 * (core/src/explain.rs). */
static void navigation(request_rec *r, const char *url,
                       push_redirect_exchange *x)
{
    static const char *const carried[] = {"Host", "X-Forwarded-Proto"};
    apr_table_t *fields = apr_table_make(r->pool, 2);
    size_t i;

    for (i = 0; i < sizeof(carried) / sizeof(carried[0]); i++) {
        const char *value = apr_table_get(r->headers_in, carried[i]);

        if (value) {
            apr_table_setn(fields, carried[i], value);
        }
    }
    *x = (push_redirect_exchange){
        .headers_in = push_redirect_fields_of(fields),
        .request_target = url,
    };
    push_redirect_read_arrival(r, r, x);
}

/* Drops the records of the URL of `x` (its own and its page's hints not
 * yet public): what became of its own. */
static const char *forget(request_rec *r, const push_redirect_exchange *x)
{
    unsigned char keys[2][PUSH_REDIRECT_KEY_LEN];
    hint_store_view v;
    apr_status_t rv = APR_ENOTIMPL;
    int i;

    hint_store_view_get(&v);
    if (!push_redirect_record_keys(x, keys[0], keys[1])) {
        return "not-learnable";
    }
    if (!v.instance || !push_redirect_write_budget_usable(v.budget)) {
        return "no-store";
    }
    /* The record last: its answer is the one shown. */
    for (i = 1; i >= 0; i--) {
        unsigned int len = 0;

        if (v.threaded) {
            rv = store_threads_store(keys[i], NULL, 0, 0) ? APR_EAGAIN
                                                          : APR_ENOSPC;
        }
        else {
            rv = hint_store_call(r->server, r->pool, keys[i],
                                 PUSH_REDIRECT_KEY_LEN, NULL, &len, 0,
                                 push_redirect_write_budget_epoch(v.budget));
        }
    }
    return rv == APR_SUCCESS ? "removed"
           : APR_STATUS_IS_NOTFOUND(rv) ? "not-stored"
           : rv == APR_EAGAIN ? "queued" : "failed";
}

/* What the navigation `x` leads to, with the settings of its URL's own
 * scope. */
static int explain(request_rec *r, push_redirect_exchange *x,
                   push_redirect_info *info)
{
    request_rec *sub = ap_sub_req_lookup_uri(x->request_target, r, NULL);
    const push_redirect_conf *conf =
        ap_get_module_config(sub->per_dir_config, &push_redirect_module);
    push_redirect_store store = hint_store_prepare(r);
    push_redirect_result rv;

    x->opt_out_env = apr_table_get(sub->subprocess_env, OPT_OUT_ENV) != NULL;
    rv = push_redirect_explain(conf, x, &store, push_redirect_pool_alloc,
                               r->pool, info);
    /* The merged settings are in the subrequest's pool. */
    ap_destroy_sub_req(sub);
    return rv == PUSH_REDIRECT_RESULT_OK ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* The handler's request, out of line: its frame is not paid for by the
 * requests of other handlers. */
static int __attribute__((noinline)) answer(request_rec *r)
{
    int bad = 0, json, rv;
    const char *format, *url, *forgotten = NULL;
    char *forget_url;
    push_redirect_exchange x;
    push_redirect_info info;

    format = field(r, "format", &bad);
    url = field(r, "url", &bad);
    forget_url = field(r, "forget", &bad);
    json = format && !strcmp(format, "json");
    /* A forget is a POST, anything else a GET (or HEAD). */
    if (forget_url ? r->method_number != M_POST
                   : r->method_number != M_GET) {
        ap_allow_methods(r, REPLACE_ALLOW, forget_url ? "POST" : "GET", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if ((rv = ap_discard_request_body(r)) != OK) {
        return rv;
    }
    url = forget_url ? forget_url : url;
    if (bad || (url && (*url != '/' || strlen(url) > 8192))
        || (!url && json)) {
        return HTTP_BAD_REQUEST;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, json ? "application/json"
                                : "text/html; charset=utf-8");
    if (!url) {
        push_redirect_info_form(r);
        return OK;
    }
    navigation(r, url, &x);
    if (forget_url) {
        forgotten = forget(r, &x);
    }
    if ((rv = explain(r, &x, &info)) != OK) {
        return rv;
    }
    (json ? push_redirect_info_json : push_redirect_info_html)(r, url, &info,
                                                               forgotten);
    return OK;
}

/* Every request that reaches a handler asks: the first byte first. */
static int info_handler(request_rec *r)
{
    if (!r->handler || r->handler[0] != HANDLER[0]
        || strcmp(r->handler, HANDLER)) {
        return DECLINED;
    }
    return answer(r);
}

void push_redirect_info_register_hooks(void)
{
    ap_hook_handler(info_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
