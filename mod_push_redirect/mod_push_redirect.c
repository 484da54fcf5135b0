/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * mod_push_redirect: when Apache answers with a same-origin redirect and the
 * client takes HTTP/2 server push, add `Link: </target>; as=document;
 * rel=preload` so that mod_http2 pushes the target with the redirect; with
 * PushRedirectEarlyHints, send a 103 with the target's preloads first.
 *
 * This file is the module record and its hooks. config.c reads the
 * directives, filter.c takes the response to the Rust core (behind
 * push_redirect.h) and applies its answer, ahead.c asks it for a 103 before
 * the handler, early_hints.c sends the 103, hint_store.c keeps what is
 * learned, store_call.c makes one call of its provider, store_threads.c
 * calls a store that can hang off the requests' threads (store_jobs.c
 * queues their calls), vhost.c names the virtual host it is learned for,
 * proxy.c tells a request from a proxy Apache trusts, conftree.c reads at
 * start-up what other modules' directives say; counts.c and status.c make
 * the module's server-status section, info.c and info_page.c the
 * push-redirect-info handler. The behaviour is the contract of
 * docs/behaviour.md; the operator's view, docs/operating.md.
 */

#include "push_redirect_private.h"
#include "hint_store.h"

#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"


ap_filter_rec_t *push_redirect_filter_handle;
APR_OPTIONAL_FN_TYPE(http2_var_lookup) *push_redirect_h2_var_lookup;
APR_OPTIONAL_FN_TYPE(http2_is_h2) *push_redirect_h2_is_h2;

/* mod_http2 registers its optional functions from its register_hooks, so
 * they are known by post_config whatever the LoadModule order. */
static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    const push_redirect_conftree *tree;

    (void)plog;
    push_redirect_h2_var_lookup = APR_RETRIEVE_OPTIONAL_FN(http2_var_lookup);
    push_redirect_h2_is_h2 = APR_RETRIEVE_OPTIONAL_FN(http2_is_h2);
    push_redirect_vhost_identities(pconf, s);
    tree = push_redirect_read_conftree(ptemp);
    push_redirect_trust_proxies(s, tree);
    /* Once per start or restart: the first post_config of httpd's startup
     * only checks the configuration. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        push_redirect_check_h2_early_hints(s, tree);
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "PR0002: mod_push_redirect %s loaded%s",
                 push_redirect_version(),
                 push_redirect_h2_var_lookup
                     ? "" : "; mod_http2 is not loaded, so nothing can be "
                            "pushed (HTTP/1.1 still gets the Link)");
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    /* The last content filter type, just before the protocol filters that
     * turn headers_out into the response (HTTP_HEADER, mod_http2's
     * H2_C2_RESPONSE_OUT): the headers are final there. At CONTENT_SET we
     * would run before mod_headers when LoadModule lists us first (so a
     * `Header set X-Push-Redirect off` would be missed and leak) and before
     * mod_cache's CACHE_SAVE/CACHE_OUT (CONTENT_SET + 1), so our Link would be
     * cached and replayed on hits without a decision. */
    push_redirect_filter_handle = ap_register_output_filter(
        FILTER_NAME, push_redirect_filter, NULL, AP_FTYPE_PROTOCOL - 1);
    ap_hook_insert_filter(push_redirect_insert_filter, NULL, NULL,
                          APR_HOOK_LAST);
    ap_hook_insert_error_filter(push_redirect_insert_filter, NULL, NULL,
                                APR_HOOK_LAST);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    push_redirect_ahead_register_hooks();
    hint_store_register_hooks(p);
    push_redirect_counts_register_hooks();
    push_redirect_status_register_hooks();
    push_redirect_info_register_hooks();
}

AP_DECLARE_MODULE(push_redirect) = {
    STANDARD20_MODULE_STUFF,
    push_redirect_create_dir_conf,
    push_redirect_merge_dir_conf,
    push_redirect_create_server_conf,
    NULL,
    push_redirect_cmds,
    register_hooks
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    , AP_MODULE_FLAG_NONE
#endif
};
