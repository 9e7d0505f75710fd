"""Merge fields for member-written templates: ``{{ first_name }}`` and nothing more.

Templates are written by members, so rendering must not be a programming
language: no attribute access, no tags, no filters that reach Python objects.
This is a plain substitution over a dict of strings built beforehand from a
whitelist (``outreach.email.templates.merge_values``). The only extra is a literal
fallback, ``{{ first_name|default:"there" }}``, for fields a member knows may be
empty. A field without a value and without a fallback blocks the send and is
named in the message, so no one receives "Hi ,".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Every merge field, with what it holds; the template form lists them.
FIELDS: dict[str, str] = {
    "first_name": "The contact's first name (first word of the contact name)",
    "contact_name": "The contact's full name",
    "contact_email": "The contact's email address",
    "site": "The prospect's site (registrable domain), e.g. runner-blog.example",
    "url": "The prospect's page",
    "target_url": "Our page to link to: the broken-link replacement, else the campaign's "
    "top-priority target page",
    "dead_url": "The dead link found on their page (broken-link prospects)",
    "our_site": "The campaign's site",
    "campaign": "The campaign's name",
    "niche": "The prospect's niche",
    "domain_rating": "The prospect's domain rating",
    "outlet": "The HARO outlet",
    "query_text": "The HARO query",
    "deadline": "The HARO deadline",
    "fee": "The guest-post fee",
    "sender_name": "The sending mailbox's name",
}

# A template's text at most (the pitch and each follow-up): a long pitch is 2,000
# characters; the form refuses more than this.
MAX_TEMPLATE_CHARS = 20_000

# {{ name }} or {{ name|default:"text" }}; whitespace inside the braces is free.
# Every quantifier is possessive and each is followed by a character it cannot
# match, so nothing is ever given back: a scan from each "{{" is linear.
_FIELD = re.compile(
    r"\{\{\s*+(?P<name>[A-Za-z_][A-Za-z0-9_]*+)\s*+"
    r"(?:\|\s*+default\s*+:\s*+\"(?P<default>[^\"{}]*+)\"\s*+)?\}\}"
)
_BRACES = re.compile(r"\{\{|\}\}|\{%|%\}")


class MissingValues(Exception):
    """Merge fields that have no value for this prospect."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__(names)
        self.names = names

    def __str__(self) -> str:
        listed = ", ".join(f"{{{{ {name} }}}}" for name in self.names)
        return f"No value for {listed}: fill it in on the prospect, or use a template without it."


def problems(text: str) -> list[str]:
    """What is wrong with a template's text: unknown fields and braces that are
    not a merge field (a typo like ``{{first name}}`` would otherwise go out as is)."""
    found = []
    for match in _FIELD.finditer(text):
        if match["name"] not in FIELDS:
            found.append(f"Unknown merge field {match[0]}. Known fields: {', '.join(FIELDS)}.")
    leftover = _FIELD.sub("", text)
    for match in _BRACES.finditer(leftover):
        snippet = leftover[max(0, match.start() - 10) : match.end() + 10].strip()
        found.append(
            f"“{snippet}” is not a merge field: write them as {{{{ first_name }}}}, "
            "with a known name and no tags."
        )
        break
    return found


def fields_used(text: str) -> list[str]:
    return list(dict.fromkeys(m["name"] for m in _FIELD.finditer(text)))


def render(text: str, values: Mapping[str, str]) -> str:
    """Substitute every field; raise MissingValues naming all the empty ones."""
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        value = values.get(name, "")
        if value.strip():
            return value
        if default is not None:
            return default
        if name not in missing:
            missing.append(name)
        return ""

    rendered = _FIELD.sub(substitute, text)
    if missing:
        raise MissingValues(tuple(missing))
    return rendered
