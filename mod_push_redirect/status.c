/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The module's section of server-status, through mod_status's optional
 * status_hook as mod_ssl and mod_cache_socache add theirs: the counters of
 * every child summed (counts.c; their names and labels are the core's),
 * then the shared store's own status, from its provider's status function
 * (docs/operating.md). With ?auto each counter is a `Name: value` line.
 *
 * A provider that can hang (memcache, redis) is asked for its status only
 * where this child has it in use and a fetch by the store threads has just
 * found it answering: its status call, unlike the store's other calls, is
 * made by the request's own thread.
 */

#include "push_redirect_private.h"
#include "hint_store.h"
#include "store_threads.h"

#include "http_protocol.h"
#include "mod_status.h"

#include "apr_strings.h"

#define LOCK_TIMEOUT apr_time_from_msec(100)

/* Why the provider's status is not printed, or NULL to print it. */
static const char *store_not_asked(const hint_store_view *v)
{
    static const unsigned char probe_key[PUSH_REDIRECT_KEY_LEN];
    unsigned char buf[64];
    unsigned int len = sizeof(buf);

    if (!v->instance) {
        return "nothing is learned in this child";
    }
    if (!push_redirect_write_budget_usable(v->budget)) {
        return "it failed lately and is backed off in this child";
    }
    if (v->threaded && store_threads_fetch(probe_key, buf, &len)
                           == PUSH_REDIRECT_FETCHED_UNANSWERED) {
        return "it did not answer the store threads in time";
    }
    return NULL;
}

/* The provider's own status, as mod_cache_socache prints it, unless
 * `not_asked` says why not. */
static void store_status(request_rec *r, int flags, const hint_store_view *vp,
                         const char *not_asked)
{
    int brief = flags & AP_STATUS_SHORT;
    hint_store_view v = *vp;
    apr_status_t rv = APR_SUCCESS;

    if (brief) {
        ap_rputs("PushRedirectStoreStatus\n", r);
    }
    else {
        ap_rprintf(r, "<h3>PushRedirectEarlyHintsCache %s</h3>\n<p>",
                   ap_escape_html2(r->pool, v.value ? v.value : "none", 1));
    }
    if (not_asked) {
        ap_rprintf(r, brief ? "PushRedirectStoreNotAsked: %s\n"
                            : "Not asked: %s.</p>\n", not_asked);
        return;
    }
    if (v.mutex) {
        rv = apr_global_mutex_timedlock(v.mutex, LOCK_TIMEOUT);
        if (APR_STATUS_IS_ENOTIMPL(rv)) {
            rv = apr_global_mutex_lock(v.mutex);
        }
    }
    if (rv == APR_SUCCESS) {
        v.provider->status(v.instance, r, flags);
        if (v.mutex) {
            apr_global_mutex_unlock(v.mutex);
        }
    }
    else {
        ap_rputs(brief ? "PushRedirectStoreNotAsked: its lock is busy\n"
                       : "Not asked: its lock is busy.", r);
    }
    if (!brief) {
        ap_rputs("</p>\n", r);
    }
}

/* One row of the counters' table; `value` is already text. */
static void html_row(request_rec *r, int flags, const char *label,
                     const char *value)
{
    ap_rprintf(r, flags & AP_STATUS_NOTABLE ? "%s: <b>%s</b><br>\n"
                                            : "<tr><td>%s</td><td>%s</td></tr>\n",
               ap_escape_html2(r->pool, label, 1), value);
}

static int status_hook(request_rec *r, int flags)
{
    apr_uint64_t sum[PUSH_REDIRECT_COUNTERS], backoff_ms;
    apr_time_t since = 0;
    const char *group = NULL, *backoff, *not_asked;
    char date[APR_RFC822_DATE_LEN];
    hint_store_view v;
    int counted;
    size_t i;

    /* The store first: finding it hung backs it off, and is counted. */
    hint_store_view_get(&v);
    not_asked = store_not_asked(&v);
    counted = push_redirect_counts_sum(sum, &backoff_ms, &since);

    backoff = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, backoff_ms / 1000);
    if (!(flags & AP_STATUS_SHORT)) {
        apr_rfc822_date(date, since);
        ap_rputs("<hr>\n<h2>mod_push_redirect</h2>\n", r);
        ap_rprintf(r, "<p>%s%s%s</p>\n",
                   counted ? "Counted by every child since " : "Nothing is counted.",
                   counted ? date : "",
                   counted ? " (the start, or the last restart that was not "
                             "graceful)." : "");
        ap_rputs(flags & AP_STATUS_NOTABLE ? "<p>\n" : "<table border=\"0\">\n", r);
    }
    for (i = 0; counted && i < PUSH_REDIRECT_COUNTERS; i++) {
        push_redirect_counter_text text = push_redirect_counter_describe(i);
        const char *value = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, sum[i]);

        if (flags & AP_STATUS_SHORT) {
            ap_rprintf(r, "%s: %s\n", text.name, value);
            continue;
        }
        if (text.group != group) {
            group = text.group;
            ap_rprintf(r, flags & AP_STATUS_NOTABLE ? "<b>%s</b><br>\n"
                                                    : "<tr><th colspan=\"2\" "
                                                      "align=\"left\">%s</th></tr>\n",
                       ap_escape_html2(r->pool, group, 1));
        }
        html_row(r, flags, text.label, value);
    }
    if (flags & AP_STATUS_SHORT) {
        if (counted) {
            ap_rprintf(r, "PushRedirectStoreBackoffSeconds: %s\n", backoff);
        }
    }
    else {
        if (counted) {
            html_row(r, flags, "seconds backed off", backoff);
        }
        ap_rputs(flags & AP_STATUS_NOTABLE ? "</p>\n" : "</table>\n", r);
    }
    store_status(r, flags, &v, not_asked);
    return OK;
}

void push_redirect_status_register_hooks(void)
{
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}
