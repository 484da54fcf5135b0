"""Integration-test harness for mod_push_redirect: a real httpd, real clients.

- env:      paths (module under test, apache2, nghttp, curl), free ports, certificates
- httpd:    an apache2 from a generated config in a temp ServerRoot, its logs
- clients:  nghttp -v (HTTP/2, pushes) and curl (HTTP/1.1), parsed
- backend:  the Django site in tests/backend under gunicorn
"""
