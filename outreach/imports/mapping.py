"""Which file column feeds which field: recognized from header names and
aliases, then corrected by a person before anything is written.

A mapping is a dict of column index to field name; columns not in it are ignored.
It is stored on the ImportJob as JSON, so the keys are strings there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s_\-./]++")
_DROP = re.compile(r"[^\w ]++")
# Header names of SEO tools' exports are a few words ("Referring page URL",
# "Domain Rating (DR)"); the longest alias is under 30 characters. Only this
# much of a header is read: a longer one cannot name a field anyway.
MAX_HEADER_KEY_INPUT = 256


@dataclass(frozen=True)
class Field:
    """A field an import can fill, and the header names that mean it."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    help: str = ""

    def matches(self, header: str) -> bool:
        key = header_key(header)
        return (
            key == header_key(self.name)
            or key == header_key(self.label)
            or key in {header_key(alias) for alias in self.aliases}
        )


def header_key(header: str) -> str:
    """Case-, space- and punctuation-insensitive form of a header:
    "Page URL", "page_url" and " PAGE-url " are all "page url"; a unit in
    brackets is dropped, so "Domain Rating (DR)" is "domain rating"."""
    text = _drop_brackets(header[:MAX_HEADER_KEY_INPUT].lower())
    text = _SEPARATORS.sub(" ", text)
    text = _DROP.sub("", text)
    return " ".join(text.split())


def _drop_brackets(text: str) -> str:
    """Each "(...)" or "[...]" on one line becomes a space, the opening bracket
    pairing with the first closing one after it, in one pass.

    The regex this replaces, ``\\(.*?\\)``, re-read the rest of the line for
    every "(" without a ")": 40,000 of them never finished.
    """
    out: list[str] = []
    position = 0
    # The next bracket of each kind and newline at or after a point, found once and reused
    # until the scan passes them, so no character is searched twice.
    following: dict[str, int] = {}

    def next_of(char: str, start: int) -> int:
        found = following.get(char)
        if found is None or (0 <= found < start):
            found = text.find(char, start)
            following[char] = found
        return found

    while position < len(text):
        opening = min(
            (i for i in (next_of("(", position), next_of("[", position)) if i >= 0),
            default=-1,
        )
        if opening < 0:
            break
        closing = next_of(")" if text[opening] == "(" else "]", opening + 1)
        newline = next_of("\n", opening + 1)
        if closing >= 0 and (newline < 0 or closing < newline):
            out.append(text[position:opening])
            out.append(" ")
            position = closing + 1
        else:
            out.append(text[position : opening + 1])
            position = opening + 1
    out.append(text[position:])
    return "".join(out)


def guess_mapping(headers: Sequence[str], fields: Iterable[Field]) -> dict[int, str]:
    """Map each recognized header to its field; the first column wins a field
    two columns claim, because exports put the primary column first."""
    fields = list(fields)
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        for field in fields:
            if field.name not in taken and field.matches(header):
                mapping[index] = field.name
                taken.add(field.name)
                break
    return mapping


def mapping_from_json(data: dict[str, str] | None) -> dict[int, str]:
    return {int(index): name for index, name in (data or {}).items() if name}


def mapping_to_json(mapping: dict[int, str]) -> dict[str, str]:
    return {str(index): name for index, name in sorted(mapping.items())}


def check_mapping(mapping: dict[int, str], fields: Iterable[Field], width: int) -> list[str]:
    """Problems with a mapping a person chose, as sentences (empty when fine)."""
    known = {field.name: field for field in fields}
    problems = []
    seen: dict[str, int] = {}
    for index, name in sorted(mapping.items()):
        if not 0 <= index < width:
            problems.append(f"Column {index + 1} does not exist in the file.")
        elif name not in known:
            problems.append(f"Column {index + 1}: {name!r} is not a field of this import.")
        elif name in seen:
            problems.append(
                f"{known[name].label} is chosen for two columns ({seen[name] + 1} and "
                f"{index + 1}); pick one."
            )
        else:
            seen[name] = index
    return problems
