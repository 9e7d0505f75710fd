"""A backlink profile's shape, as the comparison page shows it for us and for
each competitor: anchor-text classes, follow or not, the month a link was first
seen. Pure functions over cell values, shared by the export reader (gap.py)
and the comparison page (campaigns/dashboard/comparison.py), so our links and
theirs are sorted into the same boxes.

Anchor classes, first that applies:

* ``empty``: no text (an image without alt, or the tool left it blank);
* ``url``: the anchor is an address ("https://acme.com/x", "www.acme.com",
  "acme.com": no spaces, a dot, only URL characters);
* ``generic``: one of GENERIC ("click here", "read more", "website"...);
* ``branded``: contains the site's name (the first label of its registrable
  domain, letters and digits only: "acme-shoes.co.uk" is "acmeshoes"), letters
  and digits only, when that name has at least three characters;
* ``other``: everything else: keyword, topical and partial-match anchors.
"""

from __future__ import annotations

from datetime import date, datetime

ANCHOR_CLASSES = (
    ("branded", "Branded"),
    ("url", "Naked URL"),
    ("generic", "Generic"),
    ("other", "Keyword / other"),
    ("empty", "No text / image"),
)
GENERIC = frozenset(
    {
        "click here", "here", "this", "link", "this link", "website", "this website",
        "web site", "site", "this site", "official site", "official website", "homepage",
        "home page", "read more", "more", "learn more", "see more", "find out more", "more info",
        "more information", "visit", "visit site", "visit website", "source", "go", "check it out",
        "this article", "article", "this post", "post", "blog", "this page", "page", "here.",
    }
)  # fmt: skip
_URL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%")
# Cells longer than this are not anchors anyone wrote by hand; cut before looking.
MAX_ANCHOR = 500


def clean_anchor(value: object) -> str:
    return " ".join(str(value or "")[:MAX_ANCHOR].lower().split())


def brand_of(domain: str) -> str:
    """ "acme-shoes.co.uk" -> "acmeshoes" (the registrable domain's first label)."""
    label = domain.split(".", 1)[0]
    return "".join(ch for ch in label if ch.isalnum())


def anchor_class_before_brand(anchor: str) -> str:
    """The class of a cleaned anchor, with "branded" left inside "other": the
    reader does not know whose export it is until the whole file is read."""
    if not anchor:
        return "empty"
    if (
        "://" in anchor
        or anchor.startswith("www.")
        or (" " not in anchor and "." in anchor.strip(".") and set(anchor) <= _URL_CHARACTERS)
    ):
        return "url"
    if anchor in GENERIC:
        return "generic"
    return "other"


def is_branded(anchor: str, brand: str) -> bool:
    if len(brand) < 3:
        return False
    return brand in "".join(ch for ch in anchor if ch.isalnum())


def anchor_class(anchor: str, brand: str) -> str:
    kind = anchor_class_before_brand(anchor)
    if kind == "other" and is_branded(anchor, brand):
        return "branded"
    return kind


_TRUE = frozenset({"true", "yes", "y", "1", "x"})
_FALSE = frozenset({"false", "no", "n", "0", ""})
_NOT_FOLLOW_TOKENS = frozenset({"nofollow", "ugc", "sponsored"})
# A cell of a rel or link-type column longer than this is not a rel.
MAX_REL_CELL = 200


def flag(value: object) -> bool | None:
    """A yes/no cell (Ahrefs' and Semrush's Nofollow, UGC, Sponsored columns)."""
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def follows_by_rel(value: object) -> bool | None:
    """A rel or link-type cell: "nofollow", "ugc sponsored", "dofollow", "follow"."""
    text = str(value or "")[:MAX_REL_CELL].lower().replace(",", " ").replace(";", " ")
    tokens = set(text.split())
    if tokens & _NOT_FOLLOW_TOKENS or "no follow" in text:
        return False
    if tokens & {"dofollow", "follow", "do-follow"}:
        return True
    return None


def month_of(value: object) -> date | None:
    """The first of the month of a date cell: a date, or text starting with
    YYYY-MM-DD or YYYY/MM/DD (Ahrefs' "2024-05-17 10:21:03", Semrush's
    "2024-05-17 UTC"). Day-first and month-first dates are ambiguous; skipped."""
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    text = str(value or "").strip()[:10].replace("/", "-")
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day.replace(day=1) if 1990 <= day.year <= 2100 else None
