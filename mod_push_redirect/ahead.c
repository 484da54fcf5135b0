/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * PushRedirectEarlyHintsAhead: one call into the core once the request's
 * configuration is known and before its handler runs, and its 103 sent.
 *
 * The hook is a fixup at APR_HOOK_LAST, after mod_headers and mod_dir (its
 * trailing-slash redirect is a fixup too, and gets its 103 at the redirect)
 * and before mod_http2's own 103 (H2EarlyHint, H2PushResource), since a
 * browser takes the first: after authentication and authorisation, so no
 * learned preload precedes Apache's own 401 or 403, and after every
 * per-directory opt-out (docs/mod_http2-and-103.md).
 */

#include "push_redirect_private.h"
#include "hint_store.h"

#include "http_request.h"

static int ahead_fixups(request_rec *r)
{
    const push_redirect_conf *conf =
        ap_get_module_config(r->per_dir_config, &push_redirect_module);
    push_redirect_exchange exchange;
    push_redirect_store store;
    push_redirect_answer a;
    push_redirect_result rv;

    /* Only the request the client sent; one that waits for 100-continue
     * gets no interim response before it (as mod_http2 does). */
    if (!conf->ahead_on || r->main || r->prev || r->expecting_100) {
        return DECLINED;
    }
    push_redirect_read_request(r, 1, &exchange);
    store = hint_store_prepare(r);
    rv = push_redirect_ahead(conf, &exchange, &store, push_redirect_pool_alloc,
                             r->pool, &a);
    if (a.early_hints) {
        apr_table_setn(r->notes, PUSH_REDIRECT_AHEAD_NOTE, "1");
    }
    push_redirect_apply(r, &a);
    push_redirect_log_ahead(r, &exchange, &a, rv);
    return DECLINED;
}

void push_redirect_ahead_register_hooks(void)
{
    static const char *const before[] = {"mod_http2.c", NULL};
    static const char *const after[] = {"mod_headers.c", "mod_dir.c", NULL};

    ap_hook_fixups(ahead_fixups, after, before, APR_HOOK_LAST);
}
