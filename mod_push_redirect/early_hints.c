/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * Early Hints on Apache's side: sending the core's 103 on the stream, and
 * the start-up warning where mod_http2 would drop it.
 */

#include "push_redirect_private.h"

#include "http_log.h"
#include "http_protocol.h"

#include "util_cfgtree.h"


APLOG_USE_MODULE(push_redirect);

/* Sends `link_value` as the one field of a 103 on this stream, before the
 * response itself: mod_http2 turns it into a HEADERS frame (with
 * H2EarlyHints on; without, it drops it). ap_send_interim_response sends
 * and then clears r->headers_out, so it gets a table of its own.
 *
 * mod_http2 pushes from a 103's preloads as from any response, and the
 * hints cannot say `nopush` (Chromium then ignores them). The browser is
 * to fetch them itself, with its cookies, so pushes are turned off for the
 * 103 alone with mod_http2's own connection note, which it reads from the
 * stream's connection when it parses an interim response and sets itself
 * for `H2Push off` scopes. The redirect's own push (PushRedirect) is not
 * affected: the note is restored before the redirect goes on. */
#define H2_PUSH_MODE_NOTE "http2-push-mode"

void push_redirect_send_early_hints(request_rec *r, const char *link_value)
{
    apr_table_t *headers_out = r->headers_out;
    int status = r->status;
    const char *status_line = r->status_line;
    apr_table_t *notes = r->connection->notes;
    const char *push_mode = apr_table_get(notes, H2_PUSH_MODE_NOTE);

    r->headers_out = apr_table_make(r->pool, 1);
    apr_table_setn(r->headers_out, "Link", link_value);
    r->status = 103;
    r->status_line = "103 Early Hints";
    apr_table_setn(notes, H2_PUSH_MODE_NOTE, "0");
    ap_send_interim_response(r, 1);
    if (push_mode) {
        apr_table_setn(notes, H2_PUSH_MODE_NOTE, push_mode);
    }
    else {
        apr_table_unset(notes, H2_PUSH_MODE_NOTE);
    }
    r->headers_out = headers_out;
    r->status = status;
    r->status_line = status_line;
}

static void walk(push_redirect_conftree *tree, const ap_directive_t *node)
{
    for (; node; node = node->next) {
        push_redirect_conftree_enter(tree, node->directive, node->args,
                                     node->filename, node->line_num);
        walk(tree, node->first_child);
        push_redirect_conftree_leave(tree);
    }
}

/* The settings other modules do not expose, read from the configuration
 * tree at startup (.htaccess files are not seen). */
push_redirect_conftree *push_redirect_read_conftree(void)
{
    push_redirect_conftree *tree = push_redirect_conftree_new();

    walk(tree, ap_conftree);
    return tree;
}

/* mod_http2 forwards a 103 only with `H2EarlyHints on` (a server and
 * virtual-host setting it does not expose): warn for each server where
 * PushRedirectEarlyHints is On and H2EarlyHints is not, unless its 103s
 * go out over HTTP/1.1 (PushRedirectEarlyHintsHTTP1). */
void push_redirect_check_h2_early_hints(server_rec *s,
                                        push_redirect_conftree *tree)
{
    const char *warning;
    size_t i;

    for (i = 0; (warning = push_redirect_conftree_warning(tree, i)); i++) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "%s", warning);
    }
}
