/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * The push-redirect-info handler's pages (info.c asks, this writes): HTML
 * for a person, JSON for a script, from the core's structured answer.
 * Every value is escaped, by ap_escape_html2 or the core's JSON escaper:
 * the URL is the visitor's, the records anyone's who reaches the store.
 */

#include "push_redirect_private.h"

#include "http_protocol.h"

#include "apr_strings.h"

#define DOCS "docs/operating.md and docs/behaviour.md, \"Skip reasons\""

static const char *html(request_rec *r, const char *text)
{
    return ap_escape_html2(r->pool, text ? text : "", 1);
}

static const char *json(request_rec *r, const char *text)
{
    const char *quoted =
        push_redirect_json_string(text, push_redirect_pool_alloc, r->pool);

    return quoted ? quoted : "null";
}

/* The URL as a query field's value, for a link or a form's action. */
static const char *field_value(request_rec *r, const char *url)
{
    return html(r, ap_escape_urlencoded(r->pool, url));
}

static void html_list(request_rec *r, const char *tag,
                      const char *const *items, size_t n)
{
    size_t i;

    ap_rprintf(r, "<%s>\n", tag);
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "<li><code>%s</code></li>\n", html(r, items[i]));
    }
    ap_rprintf(r, "</%s>\n", tag);
}

static void json_list(request_rec *r, const char *const *items, size_t n)
{
    size_t i;

    ap_rputs("[", r);
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "%s%s", i ? ", " : "", json(r, items[i]));
    }
    ap_rputs("]", r);
}

/* What the page's own tokens mean; the contract's are in its docs. */
static const char *meaning(const char *token)
{
    static const char *const meanings[][2] = {
        {"off", "PushRedirectEarlyHints is not on for this URL"},
        {"not-learned", "nothing is learned for this URL: whether it "
                        "redirects, and where, is known once it has answered"},
        {"not-redirect", "it is learned as a page, and a page gets a 103 "
                         "only ahead of the handler "
                         "(PushRedirectEarlyHintsAhead is off here)"},
    };
    size_t i;

    for (i = 0; i < sizeof(meanings) / sizeof(meanings[0]); i++) {
        if (!strcmp(token, meanings[i][0])) {
            return meanings[i][1];
        }
    }
    return "see " DOCS;
}

static void head(request_rec *r, const char *title)
{
    ap_rprintf(r, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
                  "<meta name=\"robots\" content=\"noindex\">\n"
                  "<title>push-redirect-info%s%s</title></head><body>\n"
                  "<h1>mod_push_redirect: what a URL leads to</h1>\n"
                  "<form method=\"get\" action=\"\"><label>URL (path and query "
                  "of this virtual host) <input name=\"url\" size=\"60\" "
                  "value=\"%s\"></label> <button>Show</button></form>\n",
               title ? ": " : "", html(r, title), html(r, title));
}

void push_redirect_info_form(request_rec *r)
{
    head(r, NULL);
    ap_rputs("<p>Add <code>&amp;format=json</code> for a script.</p>\n"
             "</body></html>\n", r);
}

void push_redirect_info_html(request_rec *r, const char *url,
                             const push_redirect_info *info,
                             const char *forgotten)
{
    head(r, url);
    if (forgotten) {
        ap_rprintf(r, "<p>Forget: <code>%s</code></p>\n", html(r, forgotten));
    }
    ap_rputs("<h2>Learned record</h2>\n", r);
    if (!info->record_of) {
        ap_rprintf(r, "<p>Nothing is learned for <code>%s</code>.</p>\n", html(r, url));
    }
    else if (info->redirect_to) {
        ap_rprintf(r, "<p>Record of <code>%s</code>: a redirect to "
                      "<code>%s</code>.</p>\n",
                   html(r, info->record_of), html(r, info->redirect_to));
    }
    else {
        ap_rprintf(r, "<p>Record of <code>%s</code>: a page with %"
                      APR_SIZE_T_FMT " hint%s.</p>\n",
                   html(r, info->record_of), info->hint_count,
                   info->hint_count == 1 ? "" : "s");
        html_list(r, "ul", info->hints, info->hint_count);
    }
    ap_rputs("<h2>Chain</h2>\n", r);
    if (info->chain_end) {
        html_list(r, "ol", info->hops, info->hop_count);
        ap_rprintf(r, "<p>Ends: <code>%s</code>.</p>\n", html(r, info->chain_end));
    }
    else {
        ap_rputs("<p>None: the URL is not learned to redirect.</p>\n", r);
    }
    ap_rputs("<h2>103 for a fresh anonymous navigation</h2>\n", r);
    if (info->early_hints) {
        ap_rprintf(r, "<p>Sent %s, for the page <code>%s</code>: %" APR_SIZE_T_FMT
                      " hint%s, %" APR_SIZE_T_FMT " of them declared.</p>\n"
                      "<pre>Link: %s</pre>\n",
                   info->early_hints_ahead ? "ahead of the handler" : "at the redirect",
                   html(r, info->early_hints_for), info->early_hints_count,
                   info->early_hints_count == 1 ? "" : "s",
                   info->early_hints_declared, html(r, info->early_hints));
    }
    else {
        ap_rprintf(r, "<p>None: <code>%s</code> (%s).</p>\n",
                   html(r, info->no_early_hints),
                   html(r, meaning(info->no_early_hints ? info->no_early_hints : "")));
    }
    ap_rprintf(r, "<p>The store, in the child that answered: <code>%s</code>.</p>\n"
                  "<form method=\"post\" action=\"?forget=%s\"><button>Forget "
                  "what is learned for this URL</button></form>\n</body></html>\n",
               html(r, info->store), field_value(r, url));
}

void push_redirect_info_json(request_rec *r, const char *url,
                             const push_redirect_info *info,
                             const char *forgotten)
{
    ap_rprintf(r, "{\"url\": %s, \"forgotten\": %s, \"store\": %s,\n",
               json(r, url), json(r, forgotten), json(r, info->store));
    if (info->record_of) {
        ap_rprintf(r, " \"record\": {\"of\": %s, \"kind\": \"%s\", "
                      "\"redirect_to\": %s, \"hints\": ",
                   json(r, info->record_of), info->redirect_to ? "redirect" : "page",
                   json(r, info->redirect_to));
        json_list(r, info->hints, info->hint_count);
        ap_rputs("},\n", r);
    }
    else {
        ap_rputs(" \"record\": null,\n", r);
    }
    if (info->chain_end) {
        ap_rputs(" \"chain\": {\"hops\": ", r);
        json_list(r, info->hops, info->hop_count);
        ap_rprintf(r, ", \"end\": %s},\n", json(r, info->chain_end));
    }
    else {
        ap_rputs(" \"chain\": null,\n", r);
    }
    if (info->early_hints) {
        ap_rprintf(r, " \"early_hints\": {\"when\": \"%s\", \"for\": %s, "
                      "\"link\": %s, \"hints\": %" APR_SIZE_T_FMT
                      ", \"declared\": %" APR_SIZE_T_FMT "},\n",
                   info->early_hints_ahead ? "ahead" : "at-redirect",
                   json(r, info->early_hints_for), json(r, info->early_hints),
                   info->early_hints_count, info->early_hints_declared);
    }
    else {
        ap_rputs(" \"early_hints\": null,\n", r);
    }
    ap_rprintf(r, " \"no_early_hints\": %s}\n", json(r, info->no_early_hints));
}
