/* Licensed under the Apache License, Version 2.0 (see Cargo.toml).
 *
 * Early Hints on Apache's side: sending the core's 103 on the stream, and
 * the start-up warning where mod_http2 would drop it.
 */

#include "push_redirect_private.h"

#include "http_log.h"
#include "http_protocol.h"

#include "util_cfgtree.h"

#include "apr_strings.h"

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

static int is_directive(const ap_directive_t *node, const char *name)
{
    return node->directive && !strcasecmp(node->directive, name);
}

/* Whether `node`'s first argument is `on`, in any case. */
static int is_on(apr_pool_t *p, const ap_directive_t *node)
{
    const char *args = node->args ? node->args : "";

    return !strcasecmp(ap_getword_conf(p, &args), "on");
}

/* What a server's part of the configuration says: its last H2EarlyHints
 * (-1: none; a server and virtual-host directive, perhaps inside <IfModule>)
 * and its first PushRedirectEarlyHints On at any depth. <VirtualHost>
 * sections below `node` are left out, as they are servers of their own. */
typedef struct {
    int h2_early_hints;
    const ap_directive_t *early_hints_on;
} early_hints_scan;

static void scan_server_part(apr_pool_t *p, const ap_directive_t *node,
                             early_hints_scan *scan)
{
    for (; node; node = node->next) {
        if (is_directive(node, "<VirtualHost")) {
            continue;
        }
        if (is_directive(node, "H2EarlyHints")) {
            scan->h2_early_hints = is_on(p, node);
        }
        else if (is_directive(node, "PushRedirectEarlyHints")
                 && is_on(p, node) && !scan->early_hints_on) {
            scan->early_hints_on = node;
        }
        scan_server_part(p, node->first_child, scan);
    }
}

static void warn_without_h2_early_hints(server_rec *s, const char *where,
                                        const ap_directive_t *on)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PRLOGNO(0004)
                 "PushRedirectEarlyHints On (%s:%d) applies to %s, where "
                 "H2EarlyHints is not on: mod_http2 drops every 103, so no "
                 "early hints reach clients; add `H2EarlyHints on`",
                 on->filename, on->line_num, where);
}

static void find_virtual_hosts(apr_pool_t *p, server_rec *s,
                               const ap_directive_t *node,
                               const early_hints_scan *main_scan)
{
    for (; node; node = node->next) {
        if (is_directive(node, "<VirtualHost")) {
            early_hints_scan scan = *main_scan;

            scan_server_part(p, node->first_child, &scan);
            if (scan.early_hints_on && scan.h2_early_hints != 1) {
                warn_without_h2_early_hints(
                    s, apr_psprintf(p, "<VirtualHost %s> (%s:%d)", node->args,
                                    node->filename, node->line_num),
                    scan.early_hints_on);
            }
        }
        else {
            find_virtual_hosts(p, s, node->first_child, main_scan);
        }
    }
}

/* mod_http2 forwards a 103 only with `H2EarlyHints on` (a server and
 * virtual-host setting it does not expose): read the configuration tree
 * once at startup and warn for each server where PushRedirectEarlyHints is
 * On and H2EarlyHints is not. .htaccess files are not seen. */
void push_redirect_check_h2_early_hints(apr_pool_t *p, server_rec *s)
{
    early_hints_scan main_scan = {-1, NULL};

    scan_server_part(p, ap_conftree, &main_scan);
    if (main_scan.early_hints_on && main_scan.h2_early_hints != 1) {
        warn_without_h2_early_hints(s, "the main server", main_scan.early_hints_on);
    }
    find_virtual_hosts(p, s, ap_conftree, &main_scan);
}
