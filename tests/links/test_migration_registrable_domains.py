"""Migration links 0007: backlinks' source domains become sites (registrable domains)."""

from __future__ import annotations

import pytest

from links.models import Backlink
from tests.factories import BacklinkFactory
from tests.support.migrations import replay

pytestmark = pytest.mark.django_db


def test_source_domains_become_registrable_domains():
    expected = {}
    for url, site in [
        ("https://m.example.com/a/", "example.com"),
        ("https://example.com/b/", "example.com"),
        ("https://blog.shop.co.uk/c/", "shop.co.uk"),
        ("https://alice.blogspot.com/d/", "alice.blogspot.com"),
        ("https://www.пример.рф/e/", "xn--e1afmkfd.xn--p1ai"),
        ("http://203.0.113.7/f/", "203.0.113.7"),
    ]:
        backlink = BacklinkFactory(source_url=url)
        # What the code before the migration stored: the host without "www.".
        host = backlink.source_url.split("/")[2].removeprefix("www.")
        Backlink.objects.filter(pk=backlink.pk).update(source_domain=host)
        expected[backlink.pk] = site
    assert Backlink.objects.filter(source_domain="m.example.com").exists()
    replay("links", "0007_registrable_domains")
    assert dict(Backlink.objects.values_list("pk", "source_domain")) == expected
