/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * Which virtual host answered, as learned records are keyed: by an identity
 * that is its own and the same on every server of a farm with the same
 * configuration (docs/behaviour.md, "What is learned"). Its ServerName alone
 * is not: name-based virtual hosts can share one (inherited from the main
 * server, or told apart only by ServerAlias), and then shared records, so
 * one tenant's learned preloads went out to another's visitors.
 *
 * The identity is the ServerName followed by the ServerAlias names as
 * written; where two virtual hosts on a common port still have the same,
 * the addresses of their <VirtualHost> lines as written are added to both;
 * and where even that leaves two the same (a second virtual host that
 * name-based selection never picks), a start-up warning names both. An
 * identity longer than the core keys (a long ServerAlias list) is its
 * ServerName and a digest of the whole.
 */

#include "push_redirect_private.h"

#include "http_config.h"
#include "http_core.h"
#include "http_log.h"

#include "apr_hash.h"
#include "apr_sha1.h"
#include "apr_strings.h"

APLOG_USE_MODULE(push_redirect);

void *push_redirect_create_server_conf(apr_pool_t *p, server_rec *s)
{
    push_redirect_server_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->identity = s->server_hostname;
    return conf;
}

push_redirect_server_conf *push_redirect_server_conf_of(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &push_redirect_module);
}

const char *push_redirect_vhost_identity(const server_rec *s)
{
    const push_redirect_server_conf *conf = push_redirect_server_conf_of(s);

    return conf->identity ? conf->identity : s->server_hostname;
}

static const char *names_of(apr_pool_t *p, const server_rec *s)
{
    const apr_array_header_t *lists[] = {s->names, s->wild_names};
    const char *text = s->server_hostname ? s->server_hostname : "";
    int i, j;

    for (i = 0; i < 2; i++) {
        for (j = 0; lists[i] && j < lists[i]->nelts; j++) {
            text = apr_pstrcat(p, text, " ", APR_ARRAY_IDX(lists[i], j, char *),
                               NULL);
        }
    }
    return text;
}

static const char *addresses_of(apr_pool_t *p, const server_rec *s)
{
    const server_addr_rec *a;
    const char *text = "";

    for (a = s->addrs; a; a = a->next) {
        text = apr_psprintf(p, "%s @%s:%u", text, a->virthost,
                            (unsigned)a->host_port);
    }
    return text;
}

/* Whether a request on some port could reach both (port 0 is any). */
static int share_a_port(const server_rec *a, const server_rec *b)
{
    const server_addr_rec *x, *y;

    for (x = a->addrs; x; x = x->next) {
        for (y = b->addrs; y; y = y->next) {
            if (!x->host_port || !y->host_port || x->host_port == y->host_port) {
                return 1;
            }
        }
    }
    return 0;
}

/* The virtual hosts after `s` whose identity equals its own and that share
 * a port with it: each one calls `clash` with both. */
static void each_clash(apr_pool_t *p, server_rec *main_server,
                       void (*clash)(apr_pool_t *, server_rec *, server_rec *))
{
    apr_hash_t *seen = apr_hash_make(p);
    server_rec *s, *first;

    for (s = main_server->next; s; s = s->next) {
        const char *identity = push_redirect_vhost_identity(s);

        for (first = apr_hash_get(seen, identity, APR_HASH_KEY_STRING);
             first && first != s; first = first->next) {
            if (first->is_virtual
                && !strcmp(push_redirect_vhost_identity(first), identity)
                && share_a_port(first, s)) {
                clash(p, first, s);
            }
        }
        if (!apr_hash_get(seen, identity, APR_HASH_KEY_STRING)) {
            apr_hash_set(seen, identity, APR_HASH_KEY_STRING, s);
        }
    }
}

/* The longest identity the core keys (MAX_KEY_SERVER_NAME_LEN). */
#define MAX_IDENTITY_LEN 255

static void set_identity(apr_pool_t *p, server_rec *s, const char *identity)
{
    push_redirect_server_conf *conf = push_redirect_server_conf_of(s);
    size_t len = strlen(identity);
    char digest[APR_SHA1PW_IDLEN + 32];

    if (len > MAX_IDENTITY_LEN) {
        apr_sha1_base64(identity, (int)len, digest);
        identity = apr_pstrcat(p, apr_pstrndup(p, s->server_hostname, 200),
                               " ", digest, NULL);
    }
    conf->identity = identity;
}

static void add_addresses(apr_pool_t *p, server_rec *a, server_rec *b)
{
    set_identity(p, a, apr_pstrcat(p, names_of(p, a), addresses_of(p, a), NULL));
    set_identity(p, b, apr_pstrcat(p, names_of(p, b), addresses_of(p, b), NULL));
}

static void warn(apr_pool_t *p, server_rec *a, server_rec *b)
{
    (void)p;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, b, PRLOGNO(0121)
                 "the virtual hosts of %s:%d and %s:%d have the same names "
                 "and addresses (%s): they share what is learned for Early "
                 "Hints; give each its own ServerName", a->defn_name,
                 a->defn_line_number, b->defn_name, b->defn_line_number,
                 push_redirect_vhost_identity(b));
}

void push_redirect_vhost_identities(apr_pool_t *pconf, server_rec *main_server)
{
    const void *main_conf = ap_get_module_config(main_server->module_config,
                                                 &push_redirect_module);
    server_rec *s;

    /* A virtual host where none of this module's directives appears has
     * the main server's configuration, not one of its own: give it one. */
    for (s = main_server->next; s; s = s->next) {
        if (ap_get_module_config(s->module_config, &push_redirect_module)
            == main_conf) {
            ap_set_module_config(s->module_config, &push_redirect_module,
                                 push_redirect_create_server_conf(pconf, s));
        }
    }
    for (s = main_server; s; s = s->next) {
        set_identity(pconf, s,
                     s->is_virtual ? names_of(pconf, s) : s->server_hostname);
    }
    each_clash(pconf, main_server, add_addresses);
    /* Once per start or restart: the first post_config of httpd's startup
     * only checks the configuration. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        each_clash(pconf, main_server, warn);
    }
}
