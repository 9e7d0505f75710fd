"""Which importer handles which ImportJob target.

outreach never imports links, yet a backlink import runs through the same
upload pages, task and history as a prospect import. So links registers its
importer here when Django starts (``LinksConfig.ready``), and outreach looks it
up by name.
"""

from __future__ import annotations

from outreach.imports.engine import Importer
from outreach.imports.prospects import ProspectImporter

_IMPORTERS: dict[str, type[Importer]] = {ProspectImporter.target: ProspectImporter}


def register(importer: type[Importer]) -> type[Importer]:
    _IMPORTERS[importer.target] = importer
    return importer


def importer_class(target: str) -> type[Importer]:
    try:
        return _IMPORTERS[target]
    except KeyError:
        raise LookupError(f"No importer is registered for {target!r}") from None


def targets() -> list[type[Importer]]:
    return list(_IMPORTERS.values())
