//! The H2EarlyHints check over trees as Apache builds them.

use super::*;

/// A node: directive, args, children.
struct Node(&'static str, &'static str, Vec<Node>);

fn walk(tree: &mut ConfTree, nodes: &[Node], line: &mut c_int) {
    for Node(directive, args, children) in nodes {
        *line += 1;
        let place = Place {
            filename: b"/etc/apache2/site.conf".to_vec(),
            line: *line,
        };
        tree.enter(
            directive.as_bytes(),
            args.as_bytes(),
            place,
            args.as_bytes().to_vec(),
        );
        walk(tree, children, line);
        tree.open.pop();
    }
}

fn warnings(nodes: &[Node]) -> Vec<String> {
    let mut tree = ConfTree::default();
    walk(&mut tree, nodes, &mut 0);
    tree.warnings()
        .iter()
        .map(|w| w.to_str().unwrap().to_owned())
        .collect()
}

fn vhost(children: Vec<Node>) -> Node {
    Node("<VirtualHost", "127.0.0.1:443>", children)
}

#[test]
fn the_first_word_is_read_as_ap_getword_conf_does() {
    for on in [
        "on",
        "On",
        "  ON  extra",
        "\"on\"",
        "'oN'",
        "\"on",
        "\"on\"x",
    ] {
        assert!(first_word_is_on(on.as_bytes()), "{on:?}");
    }
    for not in ["", "off", "o\\n", "\"o\\n\"", "onx", "'on\"", "\\on"] {
        assert!(!first_word_is_on(not.as_bytes()), "{not:?}");
    }
}

#[test]
fn the_main_server_without_h2_early_hints_is_warned_about() {
    let found = warnings(&[Node("PushRedirectEarlyHints", "On", vec![])]);
    assert_eq!(
        found,
        [
            "PR0004: PushRedirectEarlyHints On (/etc/apache2/site.conf:1) applies to the main \
          server, where H2EarlyHints is not on: mod_http2 drops every 103, so no early hints \
          reach clients; add `H2EarlyHints on`"
        ]
    );
    let none = warnings(&[
        Node("PushRedirectEarlyHints", "On", vec![]),
        Node(
            "<IfModule",
            "http2_module>",
            vec![Node("H2EarlyHints", "on", vec![])],
        ),
    ]);
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn a_virtual_host_inherits_what_it_does_not_set_wherever_it_is_written() {
    // The main server's H2EarlyHints after the virtual host still holds.
    let inherited = warnings(&[
        vhost(vec![Node("PushRedirectEarlyHints", "on", vec![])]),
        Node("H2EarlyHints", "on", vec![]),
    ]);
    assert!(inherited.is_empty(), "{inherited:?}");
    let own = warnings(&[
        Node("H2EarlyHints", "on", vec![]),
        Node("PushRedirectEarlyHints", "on", vec![]),
        vhost(vec![Node("H2EarlyHints", "off", vec![])]),
    ]);
    assert_eq!(own.len(), 1);
    assert!(
        own[0].starts_with(
            "PR0004: PushRedirectEarlyHints On (/etc/apache2/site.conf:2) applies to \
             <VirtualHost 127.0.0.1:443> (/etc/apache2/site.conf:3), where"
        ),
        "{own:?}"
    );
}

#[test]
fn a_virtual_hosts_settings_stay_its_own() {
    let found = warnings(&[
        vhost(vec![Node("PushRedirectEarlyHints", "on", vec![])]),
        vhost(vec![Node(
            "<Location",
            "/>",
            vec![Node("PushRedirectEarlyHints", "on", vec![])],
        )]),
        vhost(vec![
            Node("PushRedirectEarlyHints", "on", vec![]),
            Node("H2EarlyHints", "on", vec![]),
            vhost(vec![Node("H2EarlyHints", "off", vec![])]),
        ]),
    ]);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains(
        "site.conf:2) applies to <VirtualHost 127.0.0.1:443> (/etc/apache2/site.conf:1)"
    ));
    assert!(found[1].contains(
        "site.conf:5) applies to <VirtualHost 127.0.0.1:443> (/etc/apache2/site.conf:3)"
    ));
}

#[test]
fn a_server_whose_103s_go_out_over_http1_is_not_warned_about() {
    let found = warnings(&[
        Node("PushRedirectEarlyHints", "on", vec![]),
        Node("PushRedirectEarlyHintsHTTP1", "on", vec![]),
        vhost(vec![Node("PushRedirectEarlyHints", "on", vec![])]),
        vhost(vec![
            Node("PushRedirectEarlyHints", "on", vec![]),
            Node("PushRedirectEarlyHintsHTTP1", "off", vec![]),
        ]),
    ]);
    assert!(found.is_empty(), "{found:?}");
    let own = warnings(&[
        vhost(vec![Node(
            "<Location",
            "/app/>",
            vec![
                Node("PushRedirectEarlyHints", "on", vec![]),
                Node("PushRedirectEarlyHintsHTTP1", "on", vec![]),
            ],
        )]),
        vhost(vec![
            Node("PushRedirectEarlyHints", "on", vec![]),
            Node("PushRedirectEarlyHintsHTTP1", "off", vec![]),
        ]),
    ]);
    assert_eq!(own.len(), 1, "{own:?}");
    assert!(
        own[0].contains("(/etc/apache2/site.conf:5), where"),
        "{own:?}"
    );
}

/// Which of the main server (None) and the virtual hosts at these lines
/// trust the proxy in front, after walking `nodes`.
fn trusting(nodes: &[Node], lines: &[c_int]) -> Vec<bool> {
    let mut tree = ConfTree::default();
    walk(&mut tree, nodes, &mut 0);
    let places = lines.iter().map(|&line| Place {
        filename: b"/etc/apache2/site.conf".to_vec(),
        line,
    });
    std::iter::once(tree.trusts_proxy(None))
        .chain(places.map(|place| tree.trusts_proxy(Some(&place))))
        .collect()
}

#[test]
fn a_server_trusts_the_proxy_a_remoteip_list_names_its_own_or_the_main_servers() {
    for list in [
        "RemoteIPInternalProxy",
        "RemoteIPInternalProxyList",
        "remoteiptrustedproxy",
        "RemoteIPTrustedProxyList",
    ] {
        let main = [vhost(vec![]), Node(list, "10.0.0.1", vec![]), vhost(vec![])];
        assert_eq!(trusting(&main, &[1, 3]), [true, true, true], "{list}");
        let own = [vhost(vec![]), vhost(vec![Node(list, "10.0.0.1", vec![])])];
        assert_eq!(trusting(&own, &[1, 2]), [false, false, true], "{list}");
    }
}

#[test]
fn no_list_no_trust() {
    // mod_remoteip without a list takes the header from every peer.
    let header_only = [
        Node("RemoteIPHeader", "X-Forwarded-For", vec![]),
        vhost(vec![Node("RemoteIPHeader", "X-Forwarded-For", vec![])]),
    ];
    assert_eq!(trusting(&header_only, &[2]), [false, false]);
    // A list in a virtual host Apache does not take (one inside another).
    let ignored = [vhost(vec![vhost(vec![Node(
        "RemoteIPInternalProxy",
        "10.0.0.1",
        vec![],
    )])])];
    assert_eq!(trusting(&ignored, &[1, 2]), [false, false, false]);
    // A server the walk did not see.
    let listed = [Node("RemoteIPInternalProxy", "10.0.0.1", vec![])];
    assert_eq!(trusting(&listed, &[7]), [true, false]);
}

#[test]
fn the_proxy_protocol_anywhere_leaves_no_server_trusting() {
    let nodes = [
        Node("RemoteIPInternalProxy", "10.0.0.1", vec![]),
        vhost(vec![Node("RemoteIPTrustedProxy", "192.0.2.1", vec![])]),
        vhost(vec![Node("RemoteIPProxyProtocol", "On", vec![])]),
    ];
    assert_eq!(trusting(&nodes, &[2, 4]), [false, false, false]);
    let off = [
        Node("RemoteIPInternalProxy", "10.0.0.1", vec![]),
        vhost(vec![Node("RemoteIPProxyProtocol", "Off", vec![])]),
    ];
    assert_eq!(trusting(&off, &[2]), [true, true]);
}
