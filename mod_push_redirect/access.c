/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * What Apache knows of the visitor, for the core (push_redirect_store):
 * whether the request is authenticated otherwise than by its headers, and
 * whether Apache's access control lets it, or a stranger, fetch another
 * URL of its virtual host.
 */

#include "push_redirect_private.h"

#include "http_request.h"
#include "http_ssl.h"

#include "apr_strings.h"

/* A user Apache's authentication set, or a client certificate mod_ssl
 * verified: asked by the core only before it would learn. */
bool push_redirect_authenticated(void *request)
{
    request_rec *r = request;
    const char *verify;

    if (r->user) {
        return true;
    }
    verify = ap_ssl_var_lookup(r->pool, r->server, r->connection, r,
                               "SSL_CLIENT_VERIFY");
    return verify && !strcmp(verify, "SUCCESS");
}

/* Whether Apache's access control lets this request fetch `target` (a
 * path+query of its virtual host): a lookup subrequest, as mod_dir and
 * mod_negotiation make, which runs the same authentication and
 * authorization as the request itself would, and no handler. Asked by the
 * core only before another URL's learned hints go into a 103. */
bool push_redirect_may_fetch(void *request, const char *target, size_t len)
{
    request_rec *r = request;
    request_rec *sub = ap_sub_req_method_uri(
        "GET", apr_pstrmemdup(r->pool, target, len), r, NULL);
    bool allowed = sub->status == HTTP_OK;

    ap_destroy_sub_req(sub);
    return allowed;
}

/* An address of TEST-NET-1 (RFC 5737, documentation only): no network's
 * `Require ip` names it, and it is no loopback for `Require local`. */
#define STRANGER_IP "192.0.2.1"

/* The same lookup for a stranger: this request stripped, for the
 * subrequest alone, of all that is the visitor's — its address, every
 * header field but Host, its variables, its user — so that what the
 * stranger may fetch, anyone may, and the core keeps the answer a while
 * (core/src/record/strangers.rs). 1 or 0; -1 when the connection
 * carries a client certificate, which the subrequest would still present,
 * or when Apache did not check: it skips the access checks of a
 * subrequest whose configuration is its parent's own, and takes the
 * parent's verdict (ap_process_request_internal). */
int push_redirect_stranger_may_fetch(void *request, const char *target,
                                     size_t len)
{
    request_rec *r = request;
    request_rec visitor = *r;
    const char *host = apr_table_get(r->headers_in, "Host");
    const char *cert = ap_ssl_var_lookup(r->pool, r->server, r->connection,
                                         r, "SSL_CLIENT_CERT");
    apr_sockaddr_t *stranger;
    request_rec *sub;
    int answer;

    if ((cert && *cert)
        || apr_sockaddr_info_get(&stranger, STRANGER_IP, APR_INET, 0, 0,
                                 r->pool) != APR_SUCCESS) {
        return -1;
    }
    r->useragent_addr = stranger;
    r->useragent_ip = STRANGER_IP;
    /* Empty, not NULL: looked up and not found, so that `Require host`
     * asks no DNS server about the address. */
    r->useragent_host = "";
    r->headers_in = apr_table_make(r->pool, 1);
    if (host) {
        apr_table_setn(r->headers_in, "Host", host);
    }
    r->subprocess_env = apr_table_make(r->pool, 1);
    r->user = NULL;
    r->ap_auth_type = NULL;
    sub = ap_sub_req_method_uri("GET", apr_pstrmemdup(r->pool, target, len),
                                r, NULL);
    r->useragent_addr = visitor.useragent_addr;
    r->useragent_ip = visitor.useragent_ip;
    r->useragent_host = visitor.useragent_host;
    r->headers_in = visitor.headers_in;
    r->subprocess_env = visitor.subprocess_env;
    r->user = visitor.user;
    r->ap_auth_type = visitor.ap_auth_type;
    answer = sub->per_dir_config == r->per_dir_config ? -1
             : sub->status == HTTP_OK;
    ap_destroy_sub_req(sub);
    return answer;
}
