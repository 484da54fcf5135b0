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
#define OPT_OUT_ENV "no-push-redirect"
#define INTERNAL_ERROR "internal-error"

#define LOG_LOCATION_MAX 256 /* bytes of a Location in a log line */

/* The request the client sent, before internal redirects and subrequests. */
static request_rec *initial_request(request_rec *r)
{
    while (r->prev || r->main) {
        r = r->prev ? r->prev : r->main;
    }
    return r;
}

/* The opt-out variable in any request of the chain: an internal redirect (a
 * front controller, an ErrorDocument) renames it REDIRECT_..., and a SetEnvIf
 * on the new URI no longer sets it. */
static int opt_out_in_chain(request_rec *r)
{
    for (; r; r = r->prev ? r->prev : r->main) {
        if (apr_table_get(r->subprocess_env, OPT_OUT_ENV)
            || apr_table_get(r->subprocess_env, "REDIRECT_" OPT_OUT_ENV)) {
            return 1;
        }
    }
    return 0;
}

/* Whether mod_http2's variable `name` has `value` for this request. Asked
 * through its optional function rather than read from subprocess_env: the
 * fixup that copies them there does not run for redirects made before the
 * handler. */
static int h2_var_is(request_rec *r, const char *name, const char *value)
{
    const char *actual;

    if (!push_redirect_h2_var_lookup) {
        return 0;
    }
    actual = push_redirect_h2_var_lookup(r->pool, r->server, r->connection, r, (char *)name);
    return actual && !strcmp(actual, value);
}

/* The response fields the core reads, from headers_out then err_headers_out
 * as the client sees them; arrays only when present. */
typedef struct {
    const char *location;
    int more_locations;
    apr_array_header_t *opt_outs;
    apr_array_header_t *links;
    apr_array_header_t *cache_control;
    int set_cookie;
} response_fields;

static void add_value(apr_pool_t *p, apr_array_header_t **values,
                      const char *value)
{
    if (!*values) {
        *values = apr_array_make(p, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*values, const char *) = value;
}

static void read_fields(request_rec *r, const apr_table_t *table,
                        response_fields *out)
{
    const apr_array_header_t *elts = apr_table_elts(table);
    const apr_table_entry_t *entry = (const apr_table_entry_t *)elts->elts;
    int i;

    for (i = 0; i < elts->nelts; i++) {
        const char *key = entry[i].key;

        /* The first letter first: most fields are none of the three. */
        if ((key[0] | 0x20) == 'l' && !strcasecmp(key, "Location")) {
            out->more_locations |= out->location != NULL;
            out->location = out->location ? out->location : entry[i].val;
        }
        else if ((key[0] | 0x20) == 'l' && !strcasecmp(key, "Link")) {
            add_value(r->pool, &out->links, entry[i].val);
        }
        else if ((key[0] | 0x20) == 'x' && !strcasecmp(key, OPT_OUT_HEADER)) {
            add_value(r->pool, &out->opt_outs, entry[i].val);
        }
        else if ((key[0] | 0x20) == 'c' && !strcasecmp(key, "Cache-Control")) {
            add_value(r->pool, &out->cache_control, entry[i].val);
        }
        else if ((key[0] | 0x20) == 's' && !strncasecmp(key, "Set-Cookie", 10)) {
            out->set_cookie = 1;
        }
    }
}

#define COUNT(values) ((values) ? (size_t)(values)->nelts : 0)
#define ITEMS(values) ((values) ? (const char *const *)(values)->elts : NULL)

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

static const char *location_for_log(request_rec *r, const char *location)
{
    if (!location) {
        return "(none)";
    }
    if (strlen(location) > LOG_LOCATION_MAX) {
        location = apr_pstrmemdup(r->pool, location, LOG_LOCATION_MAX);
    }
    return ap_escape_logitem(r->pool, location);
}

#define FAILED(rv, token) \
    ((rv) != PUSH_REDIRECT_RESULT_OK || !strcmp((token), INTERNAL_ERROR))

/* The 103 goes out first, before anything of the redirect. */
static void apply_early_hints(request_rec *r, const push_redirect_answer *a,
                              push_redirect_result rv, const char *location)
{
    if (a->early_hints) {
        push_redirect_send_early_hints(r, a->early_hints);
        apr_table_setn(r->subprocess_env, "PUSH_REDIRECT_EARLY_HINTS",
                       a->early_hints_target);
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "early hints for %s sent before the %d: %s",
                      a->early_hints_target, r->status,
                      ap_escape_logitem(r->pool, a->early_hints));
    }
    else if (a->early_hints_skipped) {
        apr_table_setn(r->subprocess_env, "PUSH_REDIRECT_EARLY_HINTS_SKIPPED",
                       a->early_hints_skipped);
        if (FAILED(rv, a->early_hints_skipped)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRLOGNO(0003)
                          "internal error (%d) choosing early hints for the "
                          "%d response; none sent (Location: %s)", (int)rv,
                          r->status, location_for_log(r, location));
        }
        else if (APLOGrtrace1(r)) {
            ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                          "no early hints (%s) for %d (Location: %s)",
                          a->early_hints_skipped, r->status,
                          location_for_log(r, location));
        }
    }
}

static void apply_push(request_rec *r, const request_rec *first,
                       const push_redirect_answer *a, push_redirect_result rv,
                       const char *location)
{
    size_t i;

    for (i = 0; i < a->link_count; i++) {
        apr_table_addn(r->headers_out, "Link", a->links[i]);
    }
    if (a->pushed) {
        apr_table_setn(r->subprocess_env, "PUSH_REDIRECT", a->pushed);
        if (APLOGrtrace1(r)) {
            ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                          "push %s for %d to %s %s (Location: %s)", a->pushed,
                          r->status, first->method, first->unparsed_uri,
                          location_for_log(r, location));
        }
    }
    else if (a->skipped) {
        apr_table_setn(r->subprocess_env, "PUSH_REDIRECT_SKIPPED", a->skipped);
        if (FAILED(rv, a->skipped)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRLOGNO(0001)
                          "internal error (%d) deciding on the %d response "
                          "to %s; sent unchanged (Location: %s)", (int)rv,
                          r->status, first->unparsed_uri,
                          location_for_log(r, location));
        }
        else if (APLOGrtrace1(r)) {
            ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                          "skip (%s) for %d to %s %s (Location: %s)",
                          a->skipped, r->status, first->method,
                          first->unparsed_uri, location_for_log(r, location));
        }
    }
}

/* The request half of the core's snapshot, from the request the client
 * sent; designated, so a field the shim does not know of reads as zero. */
void push_redirect_read_request(request_rec *r, push_redirect_exchange *x)
{
    request_rec *first = initial_request(r);
    int http2 = push_redirect_h2_is_h2 ? push_redirect_h2_is_h2(r->connection)
                                     : r->proto_num >= 2000;
    const char *host = apr_table_get(first->headers_in, "Host");

    *x = (push_redirect_exchange){
        .method = first->method,
        .scheme = ap_http_scheme(first),
        .host = host,
        .server_name = host ? NULL : ap_get_server_name_for_url(first),
        .server_port = host ? 0 : ap_get_server_port(first),
        .request_target = first->unparsed_uri,
        .is_http2 = http2,
        /* H2_PUSH stays "on" on a pushed stream, which mod_http2 never
         * pushes from: H2_PUSHED tells those apart. */
        .h2_push_on = http2 && h2_var_is(r, "H2_PUSH", "on"),
        .is_pushed_stream = http2 && h2_var_is(r, "H2_PUSHED", "PUSHED"),
        .has_cookie = apr_table_get(first->headers_in, "Cookie") != NULL,
        .has_authorization =
            apr_table_get(first->headers_in, "Authorization") != NULL,
        .opt_out_env = opt_out_in_chain(r),
        .vhost = r->server->server_hostname,
        .local_port = r->connection->local_addr->port,
        .sec_fetch_mode = apr_table_get(first->headers_in, "Sec-Fetch-Mode"),
        .sec_fetch_dest = apr_table_get(first->headers_in, "Sec-Fetch-Dest"),
        .early_hints_sent =
            apr_table_get(first->notes, PUSH_REDIRECT_AHEAD_NOTE) != NULL,
    };
}

static void respond(request_rec *r, const push_redirect_conf *conf)
{
    request_rec *first = initial_request(r);
    response_fields fields = {0};
    push_redirect_store store;
    push_redirect_exchange exchange;
    push_redirect_answer answer;
    push_redirect_result rv;

    read_fields(r, r->headers_out, &fields);
    read_fields(r, r->err_headers_out, &fields);
    push_redirect_read_request(r, &exchange);
    exchange.status = r->status;
    exchange.location = fields.location;
    exchange.more_locations = fields.more_locations;
    exchange.opt_out_values = ITEMS(fields.opt_outs);
    exchange.opt_out_count = COUNT(fields.opt_outs);
    exchange.links = ITEMS(fields.links);
    exchange.link_count = COUNT(fields.links);
    exchange.has_set_cookie = fields.set_cookie;
    exchange.cache_control = ITEMS(fields.cache_control);
    exchange.cache_control_count = COUNT(fields.cache_control);
    hint_store_prepare(r, &store);
    rv = push_redirect_respond(conf, &exchange, &store,
                               push_redirect_pool_alloc, r->pool, &answer);
    hint_store_apply(r, &answer);
    apply_early_hints(r, &answer, rv, fields.location);
    apply_push(r, first, &answer, rv, fields.location);
    if (answer.learned > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "learned %" APR_SIZE_T_FMT " early hints for %s",
                      answer.learned, first->uri);
    }
    if (answer.strip_opt_out && fields.opt_outs) {
        strip_opt_out(r);
    }
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

    if (APR_BRIGADE_EMPTY(bb)) {
        return APR_SUCCESS;
    }
    conf = ap_get_module_config(r->per_dir_config, &push_redirect_module);
    /* A 200 is answered only to learn from it. */
    if (responds_to(conf, r->status)
        && (r->status != HTTP_OK || hint_store_learns())) {
        respond(r, conf);
    }
    else if (apr_table_get(r->headers_out, OPT_OUT_HEADER)
             || apr_table_get(r->err_headers_out, OPT_OUT_HEADER)) {
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
