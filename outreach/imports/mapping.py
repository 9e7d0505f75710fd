"""Which file column feeds which field: recognized from header names and
aliases, then corrected by a person before anything is written.

A mapping is a dict of column index to field name; columns not in it are ignored.
It is stored on the ImportJob as JSON, so the keys are strings there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s_\-./]+")
_DROP = re.compile(r"[^\w ]+")


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
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", header.lower())
    text = _SEPARATORS.sub(" ", text)
    text = _DROP.sub("", text)
    return " ".join(text.split())


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
