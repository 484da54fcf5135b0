/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * Behind a proxy that ends TLS (docs/behind-a-proxy.md): whether a request
 * came through a proxy Apache trusts, whose X-Forwarded-Proto then says
 * the scheme the client used (the core reads it: client_scheme).
 *
 * Apache's own word for such a proxy is mod_remoteip's: with a list of
 * proxies (RemoteIPInternalProxy, RemoteIPTrustedProxy or their List
 * forms) it takes the client's address from the header of a peer the list
 * names, and from no other. So a request counts as from a trusted proxy
 * when mod_remoteip replaced its client address (r->useragent_addr, which
 * Apache and mod_http2 set to the connection's) in a server such a list
 * applies to. Without a list mod_remoteip takes the header from every peer,
 * and a PROXY protocol header (RemoteIPProxyProtocol) is checked against
 * no list: neither counts (conftree.c reads which servers have a list).
 */

#include "push_redirect_private.h"

void push_redirect_trust_proxies(server_rec *main_server,
                                 const push_redirect_conftree *tree)
{
    server_rec *s;

    for (s = main_server; s; s = s->next) {
        push_redirect_server_conf_of(s)->trusts_proxy =
            push_redirect_conftree_trusts_proxy(
                tree, s->is_virtual ? s->defn_name : NULL,
                s->defn_line_number);
    }
}

int push_redirect_from_trusted_proxy(const request_rec *r)
{
    return r->useragent_addr != r->connection->client_addr
           && push_redirect_server_conf_of(r->server)->trusts_proxy;
}
