use super::*;

#[test]
fn a_cookie_value_is_what_follows_the_first_equals_sign_up_to_the_first_semicolon() {
    let fields: [&[u8]; 4] = [
        b"sid=visitor-a-session; Path=/; HttpOnly",
        b"csrftoken=\"Tk9aWqg0\"; SameSite=Lax",
        b"lang=en",
        b"broken",
    ];
    assert_eq!(
        cookie_values(&fields),
        vec![b"visitor-a-session".to_vec(), b"Tk9aWqg0".to_vec()],
        "values shorter than {MIN_COOKIE_VALUE_LEN} bytes and fields without a value are left out"
    );
}

#[test]
fn a_hint_that_contains_a_cookie_value_is_personal_as_sent_or_percent_decoded() {
    let hint = |value: &str| Hint {
        value: value.to_owned(),
    };
    let values = vec![b"visitor-a".to_vec()];
    assert!(mentions_any(
        &hint("</api/session/visitor-a.json>; rel=preload; as=fetch"),
        &values
    ));
    assert!(mentions_any(
        &hint("</api/session/visitor%2Da.json>; rel=preload; as=fetch"),
        &values
    ));
    assert!(!mentions_any(
        &hint("</s/app.css>; rel=preload; as=style"),
        &values
    ));
}
