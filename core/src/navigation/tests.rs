use super::*;

fn navigation(mode: Option<&str>, dest: Option<&str>) -> bool {
    FetchMetadata {
        mode: mode.map(str::as_bytes),
        dest: dest.map(str::as_bytes),
    }
    .is_navigation()
}

#[test]
fn without_the_headers_a_request_is_a_navigation() {
    assert!(navigation(None, None));
}

#[test]
fn a_browser_navigation() {
    assert!(navigation(Some("navigate"), Some("document")));
    assert!(navigation(Some("navigate"), None));
    assert!(navigation(None, Some("document")));
}

#[test]
fn fetches_subresources_and_frames_are_not() {
    for mode in ["cors", "no-cors", "same-origin", "websocket"] {
        assert!(!navigation(Some(mode), None), "{mode}");
        assert!(!navigation(Some(mode), Some("document")), "{mode}");
    }
    for dest in [
        "empty", "image", "script", "style", "iframe", "frame", "embed",
    ] {
        assert!(!navigation(None, Some(dest)), "{dest}");
        assert!(!navigation(Some("navigate"), Some(dest)), "{dest}");
    }
}

#[test]
fn white_space_around_the_token_is_not_part_of_it() {
    assert!(navigation(Some(" navigate\t"), Some("\tdocument ")));
}

#[test]
fn anything_but_the_lowercase_token_is_not_a_navigation() {
    for value in [
        "",
        " ",
        "Navigate",
        "NAVIGATE",
        "navigate, navigate",
        "navigate;x=1",
        "\"navigate\"",
        "navigate\r\n",
        "navigatex",
        "nav igate",
    ] {
        assert!(!navigation(Some(value), None), "{value:?}");
    }
    for value in [
        "",
        "Document",
        "document, document",
        "document;a",
        "documents",
    ] {
        assert!(!navigation(None, Some(value)), "{value:?}");
    }
}
