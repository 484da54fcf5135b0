/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The body of a 200 the core reads before it teaches (docs/behaviour.md,
 * "What is learned"): fed to the core as it goes out, never held back,
 * and finished when the core has read enough or the response ends.
 */

#include "push_redirect_private.h"
#include "hint_store.h"

#include "http_log.h"
#include "util_filter.h"

APLOG_USE_MODULE(push_redirect);

/* A page the core reads before it teaches: the response may end, or be
 * abandoned, before the filter finishes it. */
static apr_status_t free_page(void *page)
{
    push_redirect_page_free(page);
    return APR_SUCCESS;
}

void push_redirect_keep_page(request_rec *r, push_redirect_page *page)
{
    apr_pool_cleanup_register(r->pool, page, free_page, apr_pool_cleanup_null);
}

/* What the page taught, once its body was read as far as the core
 * wanted or the response went. */
static void finish_page(ap_filter_t *f)
{
    request_rec *r = f->r;
    push_redirect_store store = hint_store_prepare(r);
    push_redirect_answer answer;

    apr_pool_cleanup_kill(r->pool, f->ctx, free_page);
    push_redirect_page_finish(f->ctx, &store, &answer);
    f->ctx = NULL;
    if (answer.taught) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "learned %" APR_SIZE_T_FMT " early hints for %s, %"
                      APR_SIZE_T_FMT " of them from its HTML%s", answer.learned,
                      r->unparsed_uri, answer.learned_from_html,
                      answer.awaiting_confirmation
                          ? "; the rest wait for a second response that "
                            "may be one visitor's to agree"
                          : "");
    }
}

/* The body of a page the core reads (docs/behaviour.md, "What is
 * learned"): each bucket is read where it is and the brigade passed on as
 * it came. A bucket with nothing to read yet (a CGI's pipe) is read only
 * after what came before it went on with a flush, as the core's output
 * filter does, so no byte waits for the scan. At the end of the head, the
 * scan's bound or the end of the body the page is finished and the filter
 * steps aside. */
apr_status_t push_redirect_scan_body(ap_filter_t *f, apr_bucket_brigade *bb)
{
    apr_bucket *e = APR_BRIGADE_FIRST(bb);
    int more = 1;

    while (more && e != APR_BRIGADE_SENTINEL(bb)) {
        const char *data;
        apr_size_t len;
        apr_status_t rv;

        if (APR_BUCKET_IS_EOS(e)) {
            more = 0;
            break;
        }
        if (APR_BUCKET_IS_METADATA(e)) {
            e = APR_BUCKET_NEXT(e);
            continue;
        }
        rv = apr_bucket_read(e, &data, &len, APR_NONBLOCK_READ);
        if (APR_STATUS_IS_EAGAIN(rv)) {
            apr_bucket_brigade *rest = apr_brigade_split_ex(bb, e, NULL);

            APR_BRIGADE_INSERT_TAIL(
                bb, apr_bucket_flush_create(f->c->bucket_alloc));
            rv = ap_pass_brigade(f->next, bb);
            apr_brigade_cleanup(bb);
            APR_BRIGADE_CONCAT(bb, rest);
            apr_brigade_destroy(rest);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ);
        }
        more = rv == APR_SUCCESS
               && push_redirect_page_feed(f->ctx, (const uint8_t *)data, len);
        e = APR_BUCKET_NEXT(e);
    }
    if (!more) {
        finish_page(f);
        ap_remove_output_filter(f);
    }
    return ap_pass_brigade(f->next, bb);
}
