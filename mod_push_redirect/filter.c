/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The response path: one snapshot of the request and response, one call
 * into the core, and its answer applied.
 */

#include "push_redirect_private.h"
#include "hint_store.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "apr_strings.h"

APLOG_USE_MODULE(push_redirect);

#define OPT_OUT_HEADER "X-Push-Redirect"

/* The request the client sent, before internal redirects and subrequests,
 * and whether the opt-out variable is set in any request of that chain: an
 * internal redirect (a front controller, an ErrorDocument) renames it
 * REDIRECT_... in the request it makes, and a SetEnvIf on the new URI no
 * longer sets it. */
static request_rec *initial_request(request_rec *r, bool *opt_out)
{
    for (;; r = r->prev ? r->prev : r->main) {
        *opt_out = *opt_out || apr_table_get(r->subprocess_env, OPT_OUT_ENV)
                   || (r->prev && apr_table_get(r->subprocess_env,
                                                "REDIRECT_" OPT_OUT_ENV));
        if (!r->prev && !r->main) {
            return r;
        }
    }
}

/* mod_http2's variable `name` for this HTTP/2 request, or NULL. Asked
 * through its optional function rather than read from subprocess_env: the
 * fixup that copies them there does not run for redirects made before the
 * handler. */
static const char *h2_var(request_rec *r, int http2, const char *name)
{
    return http2 && push_redirect_h2_var_lookup
               ? push_redirect_h2_var_lookup(r->pool, r->server, r->connection,
                                             r, (char *)name)
               : NULL;
}

/* A table's entries as they are: the core reads the fields it needs, in
 * place. */
_Static_assert(sizeof(push_redirect_field) == sizeof(apr_table_entry_t)
                   && offsetof(push_redirect_field, val)
                          == offsetof(apr_table_entry_t, val),
               "push_redirect_field is laid out as apr_table_entry_t");

push_redirect_fields push_redirect_fields_of(const apr_table_t *table)
{
    const apr_array_header_t *elts = apr_table_elts(table);

    return (push_redirect_fields){
        (const push_redirect_field *)elts->elts, (size_t)elts->nelts};
}

/* A backend's opt-out never reaches the client. */
static void strip_opt_out(request_rec *r)
{
    apr_table_unset(r->headers_out, OPT_OUT_HEADER);
    apr_table_unset(r->err_headers_out, OPT_OUT_HEADER);
}

void *push_redirect_pool_alloc(void *pool, size_t size)
{
    return apr_palloc(pool, size);
}

static void set_env(request_rec *r, const char *name, const char *value)
{
    if (value) {
        apr_table_setn(r->subprocess_env, name, value);
    }
}

/* The 103 goes out first, before anything of the redirect. */
void push_redirect_apply(request_rec *r, const push_redirect_answer *a)
{
    size_t i;

    if (a->early_hints) {
        push_redirect_send_early_hints(r, a->early_hints);
    }
    set_env(r, "PUSH_REDIRECT_EARLY_HINTS", a->early_hints_target);
    set_env(r, "PUSH_REDIRECT_EARLY_HINTS_SKIPPED", a->early_hints_skipped);
    set_env(r, "PUSH_REDIRECT", a->pushed);
    set_env(r, "PUSH_REDIRECT_SKIPPED", a->skipped);
    for (i = 0; i < a->link_count; i++) {
        apr_table_addn(r->headers_out, "Link", a->links[i]);
    }
    if (a->strip_opt_out) {
        strip_opt_out(r);
    }
}

/* For the core, when the request has no Host: the authority of the URL it
 * asked for. */
static void server_authority(void *request, const char **name,
                             apr_uint16_t *port)
{
    *name = ap_get_server_name_for_url(request);
    *port = ap_get_server_port(request);
}

void push_redirect_read_arrival(request_rec *first, request_rec *r,
                                push_redirect_exchange *x)
{
    x->scheme = ap_http_scheme(first);
    x->trusted_proxy = push_redirect_from_trusted_proxy(first);
    x->server_authority = server_authority;
    x->request = first;
    x->vhost = push_redirect_vhost_identity(r->server);
    x->local_port = r->connection->local_addr->port;
}

/* The request half of the core's snapshot, from the request the client
 * sent; designated, so a field the shim does not know of reads as zero.
 * The core reads the header fields it needs from headers_in. */
void push_redirect_read_request(request_rec *r, int early_hints,
                                push_redirect_exchange *x)
{
    bool opt_out = false;
    request_rec *first = initial_request(r, &opt_out);
    int http2 = push_redirect_h2_is_h2 ? push_redirect_h2_is_h2(r->connection)
                                     : r->proto_num >= 2000;

    *x = (push_redirect_exchange){
        .method = first->method,
        .headers_in = push_redirect_fields_of(first->headers_in),
        .request_target = first->unparsed_uri,
        .content_type = r->content_type,
        .uri = first->uri,
        .is_http2 = http2,
        .http1_0 = first->proto_num < HTTP_VERSION(1, 1),
        .h2_push = h2_var(r, http2, "H2_PUSH"),
        .h2_pushed = h2_var(r, http2, "H2_PUSHED"),
        .opt_out_env = opt_out,
        .early_hints = early_hints,
        .early_hints_sent =
            early_hints
            && apr_table_get(first->notes, PUSH_REDIRECT_AHEAD_NOTE) != NULL,
    };
    push_redirect_read_arrival(first, r, x);
}

/* Returns the page of the answer to read the body of, if any. */
static push_redirect_page *respond(request_rec *r,
                                   const push_redirect_conf *conf)
{
    push_redirect_store store = hint_store_prepare(r);
    push_redirect_exchange exchange;
    push_redirect_answer answer;
    push_redirect_result rv;

    push_redirect_read_request(r, conf->early_hints_on, &exchange);
    exchange.status = r->status;
    exchange.headers_out = push_redirect_fields_of(r->headers_out);
    exchange.err_headers_out = push_redirect_fields_of(r->err_headers_out);
    rv = push_redirect_respond(conf, &exchange, &store,
                               push_redirect_pool_alloc, r->pool, &answer);
    push_redirect_apply(r, &answer);
    push_redirect_log_answer(r, &exchange, &answer, rv);
    if (answer.page) {
        push_redirect_keep_page(r, answer.page);
    }
    return answer.page;
}

/* Whether the core decides for this status (resolved with the settings). */
static int responds_to(const push_redirect_conf *conf, int status)
{
    unsigned n = (unsigned)(status - PUSH_REDIRECT_RESPOND_FIRST);

    return n < 256 && (conf->respond_to[n / 64] >> (n % 64) & 1);
}

/* Decides once, on the first brigade, when the headers are final and before
 * mod_http2 or the HTTP/1 header filter reads them; then steps aside. */
apr_status_t push_redirect_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const push_redirect_conf *conf;

    if (f->ctx) {
        return push_redirect_scan_body(f, bb);
    }
    if (APR_BRIGADE_EMPTY(bb)) {
        return APR_SUCCESS;
    }
    conf = ap_get_module_config(r->per_dir_config, &push_redirect_module);
    /* A 200 is answered only to learn from it. */
    if (responds_to(conf, r->status)
        && (r->status != HTTP_OK || hint_store_learns())) {
        if ((f->ctx = respond(r, conf))) {
            return push_redirect_scan_body(f, bb);
        }
    }
    else {
        /* As cheap as looking for it first: one pass over each table. */
        strip_opt_out(r);
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* From insert_filter for responses made by a handler, and from
 * insert_error_filter for those made by ap_send_error_response (mod_alias,
 * mod_rewrite [R], mod_dir, ErrorDocument), which drops the filters added
 * before it. Subrequests never reach the client as such: left alone. */
void push_redirect_insert_filter(request_rec *r)
{
    const push_redirect_conf *conf =
        ap_get_module_config(r->per_dir_config, &push_redirect_module);

    if (conf->active && !r->main) {
        ap_add_output_filter_handle(push_redirect_filter_handle, NULL, r,
                                    r->connection);
    }
}
