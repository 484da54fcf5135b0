/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * What the module reads of Apache's configuration tree at start-up, for
 * settings other modules do not expose: PushRedirectEarlyHints against
 * mod_http2's H2EarlyHints (a server and virtual-host setting), and which
 * servers name the proxies in front with mod_remoteip
 * (docs/behind-a-proxy.md). .htaccess files are not in the tree.
 *
 * Each server's part is the main server's nodes or one top-level
 * <VirtualHost>'s, at any depth of the sections inside it (<IfModule>,
 * <Location>, ...). Apache refuses a <VirtualHost> inside another; the
 * walk counts one for no server.
 */

#include "push_redirect_private.h"

#include "http_log.h"

#include "apr_strings.h"
#include "util_cfgtree.h"

APLOG_USE_MODULE(push_redirect);

/* What one server's part of the configuration says. */
typedef struct {
    /* Its <VirtualHost> section; NULL for the main server. */
    const ap_directive_t *section;
    /* Its last H2EarlyHints: -1 where none is written, else whether on. */
    int h2_early_hints;
    /* Its first `PushRedirectEarlyHints On`; NULL: none. */
    const ap_directive_t *early_hints_on;
    /* A `PushRedirectEarlyHintsHTTP1 On` anywhere in it. */
    int early_hints_http1_on;
    /* It names proxies for mod_remoteip. */
    int proxy_list;
} part_t;

struct push_redirect_conftree {
    apr_pool_t *pool;
    part_t main_server;
    /* The top-level <VirtualHost>s, in the order written (part_t *). */
    apr_array_header_t *virtual_hosts;
    /* `RemoteIPProxyProtocol On` somewhere: an address from a PROXY
     * header, which no proxy list vouches for. */
    int proxy_protocol;
};

/* mod_remoteip's directives that name the proxies whose address header it
 * takes; without any, it takes the header from every peer. */
static const char *const proxy_lists[] = {
    "RemoteIPInternalProxy", "RemoteIPInternalProxyList",
    "RemoteIPTrustedProxy", "RemoteIPTrustedProxyList",
};

/* Whether the first word of the arguments is `on` in any case, read as
 * the directive's own handler reads it (quotes and backslashes too). */
static int first_word_is_on(apr_pool_t *p, const char *args)
{
    return args && !strcasecmp(ap_getword_conf(p, &args), "on");
}

static int is_proxy_list(const char *directive)
{
    size_t i;

    for (i = 0; i < sizeof(proxy_lists) / sizeof(proxy_lists[0]); i++) {
        if (!strcasecmp(directive, proxy_lists[i])) {
            return 1;
        }
    }
    return 0;
}

static void read_node(push_redirect_conftree *tree, part_t *in,
                      const ap_directive_t *node)
{
    const char *d = node->directive;

    if (!strcasecmp(d, "H2EarlyHints")) {
        in->h2_early_hints = first_word_is_on(tree->pool, node->args);
    }
    else if (!strcasecmp(d, "PushRedirectEarlyHints")) {
        if (!in->early_hints_on && first_word_is_on(tree->pool, node->args)) {
            in->early_hints_on = node;
        }
    }
    else if (!strcasecmp(d, "PushRedirectEarlyHintsHTTP1")) {
        in->early_hints_http1_on |= first_word_is_on(tree->pool, node->args);
    }
    else if (is_proxy_list(d)) {
        in->proxy_list = 1;
    }
    else if (!strcasecmp(d, "RemoteIPProxyProtocol")) {
        tree->proxy_protocol |= first_word_is_on(tree->pool, node->args);
    }
}

/* `in`: the part the nodes belong to; NULL inside a <VirtualHost> that
 * Apache does not take. */
static void walk(push_redirect_conftree *tree, part_t *in,
                 const ap_directive_t *node)
{
    for (; node; node = node->next) {
        const char *d = node->directive;
        part_t *inner = in;

        if (d && !strcasecmp(d, "<VirtualHost")) {
            inner = NULL;
            if (in == &tree->main_server) {
                inner = apr_pcalloc(tree->pool, sizeof(*inner));
                inner->section = node;
                inner->h2_early_hints = -1;
                APR_ARRAY_PUSH(tree->virtual_hosts, part_t *) = inner;
            }
        }
        else if (d && in) {
            read_node(tree, in, node);
        }
        walk(tree, inner, node->first_child);
    }
}

push_redirect_conftree *push_redirect_read_conftree(apr_pool_t *p)
{
    push_redirect_conftree *tree = apr_pcalloc(p, sizeof(*tree));

    tree->pool = p;
    tree->main_server.h2_early_hints = -1;
    tree->virtual_hosts = apr_array_make(p, 8, sizeof(part_t *));
    walk(tree, &tree->main_server, ap_conftree);
    return tree;
}

/* mod_remoteip takes the client's address only from the proxies a list
 * names (the server's own, or the main server's, as mod_remoteip merges
 * them), and no list vouches for a PROXY protocol header. */
int push_redirect_conftree_trusts_proxy(const push_redirect_conftree *tree,
                                        const char *filename, int line)
{
    const part_t *found = NULL;
    int i;

    if (!filename) {
        found = &tree->main_server;
    }
    for (i = 0; filename && i < tree->virtual_hosts->nelts; i++) {
        const part_t *vh = APR_ARRAY_IDX(tree->virtual_hosts, i, part_t *);

        if (vh->section->line_num == line && vh->section->filename
            && !strcmp(vh->section->filename, filename)) {
            found = vh;
            break;
        }
    }
    return !tree->proxy_protocol && found
           && (found->proxy_list || tree->main_server.proxy_list);
}

static void warn(server_rec *s, const ap_directive_t *on, const char *server)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PRLOGNO(0004)
                 "PushRedirectEarlyHints On (%s:%d) applies to %s, where "
                 "H2EarlyHints is not on: mod_http2 drops every 103, so no "
                 "early hints reach clients; add `H2EarlyHints on`",
                 on->filename, on->line_num, server);
}

/* How the warning names a virtual host: its section's line as written,
 * and where. The tree's arguments of a section end with its `>`, which
 * the label would otherwise double (`<VirtualHost *:5001>>`). */
static const char *label(apr_pool_t *p, const ap_directive_t *section)
{
    const char *args = section->args ? section->args : "(null)";
    int len = (int)strlen(args);

    if (len > 0 && args[len - 1] == '>') {
        len--;
    }
    return apr_psprintf(p, "<VirtualHost %.*s> (%s:%d)", len, args,
                        section->filename, section->line_num);
}

/* mod_http2 forwards a 103 only with `H2EarlyHints on`: warn for each
 * server where PushRedirectEarlyHints is On and H2EarlyHints is not,
 * unless its 103s go out over HTTP/1.1 (PushRedirectEarlyHintsHTTP1),
 * which needs no mod_http2 and may have none to write it with. The main
 * server first, then the virtual hosts in order. */
void push_redirect_check_h2_early_hints(server_rec *s,
                                        const push_redirect_conftree *tree)
{
    const part_t *m = &tree->main_server;
    int i;

    if (m->early_hints_on && m->h2_early_hints != 1
        && !m->early_hints_http1_on) {
        warn(s, m->early_hints_on, "the main server");
    }
    /* A virtual host inherits the main server's settings it does not
     * make, wherever in the files they are. */
    for (i = 0; i < tree->virtual_hosts->nelts; i++) {
        const part_t *vh = APR_ARRAY_IDX(tree->virtual_hosts, i, part_t *);
        const ap_directive_t *on =
            m->early_hints_on ? m->early_hints_on : vh->early_hints_on;
        int h2 = vh->h2_early_hints != -1 ? vh->h2_early_hints
                                          : m->h2_early_hints;

        if (on && h2 != 1 && !m->early_hints_http1_on
            && !vh->early_hints_http1_on) {
            warn(s, on, label(tree->pool, vh->section));
        }
    }
}
