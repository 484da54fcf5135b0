/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * What the files of the shim share. The shim reads Apache's structures into
 * the core's view and applies its answer; every rule and every default is
 * the core's (push_redirect.h, the behaviour contract in docs/behaviour.md).
 */

#ifndef PUSH_REDIRECT_PRIVATE_H
#define PUSH_REDIRECT_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "util_filter.h"

#include "apr_optional.h"

#include "mod_http2.h"

#include "push_redirect.h"

#define FILTER_NAME "PUSH_REDIRECT"

/* Our own log message tags; AHnnnnn numbers belong to httpd. */
#define PRLOGNO(n) "PR" #n ": "

extern module AP_MODULE_DECLARE_DATA push_redirect_module;

/* The per-directory configuration is the core's raw settings: zero or NULL
 * for "not set here". */
typedef push_redirect_settings push_redirect_conf;

/* config.c */
extern const command_rec push_redirect_cmds[];
void *push_redirect_create_dir_conf(apr_pool_t *p, char *dir);
void *push_redirect_merge_dir_conf(apr_pool_t *p, void *outer, void *inner);
/* `value` quoted for an error message, cut to 120 bytes when longer. */
const char *push_redirect_quoted(apr_pool_t *p, const char *value);

/* filter.c */
apr_status_t push_redirect_filter(ap_filter_t *f, apr_bucket_brigade *bb);
void push_redirect_insert_filter(request_rec *r);
/* Set by the administrator to opt a request out (docs/behaviour.md, rule
 * 1): filter.c reads it along the request's chain, info.c in the lookup
 * subrequest for the URL asked about. */
#define OPT_OUT_ENV "no-push-redirect"
/* The core's snapshot of the request the client sent, read when `r` (a
 * request of its chain) is answered. push_redirect_read_arrival is its
 * part that says where `first`, the request the client sent, came in: its
 * scheme and authority, and the virtual host of `r` and the port that
 * answer it (the records' key). The info handler's question (info.c) is
 * read with that part too, so that the page says what the filter does. */
void push_redirect_read_request(request_rec *r, int early_hints,
                                push_redirect_exchange *x);
void push_redirect_read_arrival(request_rec *first, request_rec *r,
                                push_redirect_exchange *x);
push_redirect_fields push_redirect_fields_of(const apr_table_t *table);
void *push_redirect_pool_alloc(void *pool, size_t size);
/* Sends the answer's 103, sets its variables, adds its Links and strips
 * the opt-out header if it says so. */
void push_redirect_apply(request_rec *r, const push_redirect_answer *a);
/* From ap_register_output_filter: adding by handle skips the name lookup. */
extern ap_filter_rec_t *push_redirect_filter_handle;
/* mod_http2's optional functions (from post_config), NULL without it. */
extern APR_OPTIONAL_FN_TYPE(http2_var_lookup) *push_redirect_h2_var_lookup;
extern APR_OPTIONAL_FN_TYPE(http2_is_h2) *push_redirect_h2_is_h2;

/* scan.c: the body of a page the core reads, which the filter keeps in
 * its context from the answer (push_redirect_keep_page frees it with the
 * request, unless it is finished first) and hands each brigade of. */
void push_redirect_keep_page(request_rec *r, push_redirect_page *page);
apr_status_t push_redirect_scan_body(ap_filter_t *f, apr_bucket_brigade *bb);

/* access.c: what Apache knows of the visitor, for the core
 * (push_redirect_store): whether the request is authenticated otherwise
 * than by its headers, and whether it, or a stranger, could fetch a
 * path+query of its virtual host. */
bool push_redirect_authenticated(void *request);
bool push_redirect_may_fetch(void *request, const char *target, size_t len);
int push_redirect_stranger_may_fetch(void *request, const char *target,
                                     size_t len);

/* log.c: the lines of an answer of push_redirect_respond, of
 * push_redirect_ahead (`rv`: what the call returned). */
void push_redirect_log_answer(request_rec *r, const push_redirect_exchange *x,
                              const push_redirect_answer *a,
                              push_redirect_result rv);
void push_redirect_log_ahead(request_rec *r, const push_redirect_exchange *x,
                             const push_redirect_answer *a,
                             push_redirect_result rv);

/* ahead.c: set in the initial request's notes once its 103 went out. */
#define PUSH_REDIRECT_AHEAD_NOTE "push-redirect-early-hints-ahead"
void push_redirect_ahead_register_hooks(void);

/* What the module knows of each server, set from post_config, once every
 * server has one of its own (push_redirect_vhost_identities). */
typedef struct {
    /* vhost.c: the identity of the virtual host, half of a learned
     * record's key. */
    const char *identity;
    /* proxy.c: mod_remoteip takes the client's address only from proxies
     * a list names, here. */
    int trusts_proxy;
} push_redirect_server_conf;

/* vhost.c: the identity of the virtual host that answered, half of a
 * learned record's key; set for every server from post_config. */
void *push_redirect_create_server_conf(apr_pool_t *p, server_rec *s);
push_redirect_server_conf *push_redirect_server_conf_of(const server_rec *s);
void push_redirect_vhost_identities(apr_pool_t *pconf, server_rec *main_server);
const char *push_redirect_vhost_identity(const server_rec *s);

/* counts.c: the counters of the server-status section, one slot per
 * child in shared memory. This child's slot (NULL: none), for its write
 * budget; a back-off of the store that began, due to end `secs` later (0:
 * when a probe finds it answering), and one that ended; the sums over
 * every slot, the milliseconds backed off and since when they count
 * (false: nothing is counted). */
void push_redirect_counts_register_hooks(void);
apr_uint64_t *push_redirect_counts_child(void);
void push_redirect_counts_backoff(int secs);
void push_redirect_counts_backoff_end(void);
int push_redirect_counts_sum(apr_uint64_t *sum, apr_uint64_t *backoff_ms,
                             apr_time_t *since);

/* status.c: the section of server-status (mod_status's status_hook);
 * info.c: the push-redirect-info handler. */
void push_redirect_status_register_hooks(void);
void push_redirect_info_register_hooks(void);

/* info_page.c: the handler's pages; `forgotten` (NULL: no forget asked)
 * is what became of the URL's record. */
void push_redirect_info_form(request_rec *r);
void push_redirect_info_html(request_rec *r, const char *url,
                             const push_redirect_info *info,
                             const char *forgotten);
void push_redirect_info_json(request_rec *r, const char *url,
                             const push_redirect_info *info,
                             const char *forgotten);

/* early_hints.c */
void push_redirect_send_early_hints(request_rec *r, const char *link_value);

/* conftree.c: what Apache's configuration tree says, read at start-up
 * into `p` (post_config's ptemp; .htaccess files are not seen). Whether
 * the server whose <VirtualHost> is at `filename`:`line` (NULL `filename`:
 * the main server) trusts the proxy in front (false for a server the tree
 * does not have); the PR0004 warnings, logged on `s`. */
typedef struct push_redirect_conftree push_redirect_conftree;
push_redirect_conftree *push_redirect_read_conftree(apr_pool_t *p);
int push_redirect_conftree_trusts_proxy(const push_redirect_conftree *tree,
                                        const char *filename, int line);
void push_redirect_check_h2_early_hints(server_rec *s,
                                        const push_redirect_conftree *tree);

/* proxy.c: behind a proxy (docs/behind-a-proxy.md). Which servers trust
 * the proxy in front, from the configuration tree; and whether a request
 * came through one they trust. */
void push_redirect_trust_proxies(server_rec *main_server,
                                 const push_redirect_conftree *tree);
int push_redirect_from_trusted_proxy(const request_rec *r);

#endif
