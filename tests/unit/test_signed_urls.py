# SIMPLE_ERP_SECRET_KEY is set by tests/conftest.py before this module is imported.
from simple_erp.services import signed_urls


def test_a_signed_link_opens_its_own_file_only_until_it_expires():
    token = signed_urls.sign("file", 42, ttl=60, now=1000)
    assert signed_urls.verify("file", 42, token, now=1059)
    assert not signed_urls.verify("file", 43, token, now=1059)  # another file
    assert not signed_urls.verify("logo", 42, token, now=1059)  # another purpose
    assert not signed_urls.verify("file", 42, token, now=1061)  # expired


def test_a_forged_or_garbled_token_is_refused():
    token = signed_urls.sign("file", 7, now=1000)
    expires, mac = token.split(".")
    assert not signed_urls.verify("file", 7, f"{int(expires) + 3600}.{mac}", now=1000)
    assert not signed_urls.verify("file", 7, "garbage", now=1000)
    assert not signed_urls.verify("file", 7, "", now=1000)
