"""Sites that several test modules serve the same way."""

TARGET = "/targets/t.html"


def push_and_exclude(h, body: bytes):
    """One pushed redirect (/r/target -> TARGET, whose body is `body`) and one
    excluded redirect (/r/excluded)."""
    h.write(f"htdocs{TARGET}", body.decode())
    h.add_vhost("main", f"""
    H2Push on
    PushRedirect On
    PushRedirectExclude ^/targets/excluded
    Redirect /r/target {TARGET}
    Redirect /r/excluded /targets/excluded.html
""")
