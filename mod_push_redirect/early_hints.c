/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * Early Hints on Apache's side: sending the core's 103 on the stream (the
 * start-up warning where mod_http2 would drop it is conftree.c's).
 */

#include "push_redirect_private.h"

#include "http_protocol.h"

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
