"""Import every module of links.verification and fail if that loaded Django or any
other project code. `make lint` runs it next to import-linter, which sees only the
project's own import statements, not what a third-party package imports in turn.
Run it in a fresh interpreter (as make does): a module loaded before is no evidence."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

PROJECT = ("campaigns", "outreach", "links", "config")
OWN = ("links", "links.verification")


def offenders(loaded: list[str]) -> list[str]:
    def ours(name: str) -> bool:
        return name in OWN or name.startswith("links.verification.")

    return [
        name
        for name in loaded
        if name == "django"
        or name.startswith("django.")
        or (name.split(".")[0] in PROJECT and not ours(name))
    ]


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import links.verification as package

    names = [package.__name__] + [
        info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    ]
    for name in names:
        importlib.import_module(name)
    bad = offenders(sorted(sys.modules))
    if bad:
        print("links.verification loaded what it must not:", *bad, sep="\n  ")
        return 1
    print(f"links.verification: {len(names)} modules imported, no Django, nothing else of ours")
    return 0


if __name__ == "__main__":
    sys.exit(main())
