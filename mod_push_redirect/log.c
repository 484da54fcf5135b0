/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The log lines of the core's answers: a failure always, at `error` with
 * its PRnnnn tag; a decision at `trace1`. Values go in as they are: httpd
 * escapes every error-log message once (ap_escape_errorlog_item).
 */

#include "push_redirect_private.h"

#include "http_log.h"

APLOG_USE_MODULE(push_redirect);

#define INTERNAL_ERROR "internal-error"

/* The bytes of a Location in a log line. */
#define LOCATION_MAX "256"

/* A side of the answer failed: the call did, or it says internal-error. */
static int failed(push_redirect_result rv, const char *token)
{
    return token && (rv != PUSH_REDIRECT_RESULT_OK
                     || !strcmp(token, INTERNAL_ERROR));
}

/* The Location the core read: the response's first. */
static const char *location_of(request_rec *r)
{
    const char *location = apr_table_get(r->headers_out, "Location");

    if (!location) {
        location = apr_table_get(r->err_headers_out, "Location");
    }
    return location ? location : "(none)";
}

void push_redirect_log_answer(request_rec *r, const push_redirect_exchange *x,
                              const push_redirect_answer *a,
                              push_redirect_result rv)
{
    const char *location;

    if (!APLOGrtrace1(r) && !failed(rv, a->early_hints_skipped)
        && !failed(rv, a->skipped)) {
        return;
    }
    location = location_of(r);
    if (a->early_hints) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "early hints for %s sent before the %d: %s",
                      a->early_hints_target, x->status, a->early_hints);
    }
    else if (failed(rv, a->early_hints_skipped)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "PR0003: internal error (%d) choosing early hints for "
                      "the %d response; none sent (Location: %." LOCATION_MAX
                      "s)", rv, x->status, location);
    }
    else if (a->early_hints_skipped) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "no early hints (%s) for %d (Location: %." LOCATION_MAX
                      "s)", a->early_hints_skipped, x->status, location);
    }
    if (a->pushed) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "push %s for %d to %s %s (Location: %." LOCATION_MAX
                      "s)", a->pushed, x->status, x->method,
                      x->request_target, location);
    }
    else if (failed(rv, a->skipped)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "PR0001: internal error (%d) deciding on the %d "
                      "response to %s; sent unchanged (Location: %."
                      LOCATION_MAX "s)", rv, x->status, x->request_target,
                      location);
    }
    else if (a->skipped) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "skip (%s) for %d to %s %s (Location: %." LOCATION_MAX
                      "s)", a->skipped, x->status, x->method,
                      x->request_target, location);
    }
    if (a->learned > 0) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "learned %" APR_SIZE_T_FMT " early hints for %s",
                      a->learned, x->uri);
    }
}

void push_redirect_log_ahead(request_rec *r, const push_redirect_exchange *x,
                             const push_redirect_answer *a,
                             push_redirect_result rv)
{
    if (failed(rv, a->early_hints_skipped)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "PR0005: internal error (%d) choosing early hints "
                      "ahead of the handler for %s; none sent", rv, x->uri);
    }
    else if (a->early_hints) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "early hints for %s sent ahead of the handler for %s: "
                      "%s", a->early_hints_target, x->uri, a->early_hints);
    }
    else if (a->early_hints_skipped) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "no early hints ahead (%s) for %s",
                      a->early_hints_skipped, x->uri);
    }
}
