"""Per-campaign counts kept by the database as rows change (the campaign list's
prospects, open prospects, backlinks and live backlinks), so that a list of
campaigns costs a few index lookups instead of counting a million rows.

A tally table holds delta rows: (campaign_id, one signed count per column).
Triggers on the counted table add one when rows are inserted, deleted or
change what they count; nothing ever updates a delta row, so concurrent
writers never wait on one another. A campaign's count is the SUM of its rows;
``compact`` (beat, every few minutes) replaces them by one row per campaign.

PostgreSQL: statement-level triggers with transition tables (one INSERT per
statement, grouped by campaign; a COPY or a 100,000-row INSERT adds one row
per campaign). SQLite (``make run``): row-level triggers, same rows.

The SQL is generated from a ``Tally``: the counted table, the tally table and,
per count column, the condition a row must meet, written over ``{r}`` (the
row: ``r`` in the transition tables, ``NEW``/``OLD`` in SQLite).
"""

# Every statement here is built from this module's constants (table, column and
# condition names), never from input.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction


@dataclass(frozen=True)
class Tally:
    source: str  # the counted table
    table: str  # its tally table
    # count column -> SQL condition over {r}; "TRUE" counts every row.
    counts: tuple[tuple[str, str], ...]
    # The counted table's columns the conditions read (SQLite's UPDATE OF).
    watched: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [name for name, _condition in self.counts]

    def _ones(self, row: str, sign: str = "") -> list[str]:
        return [
            f"{sign}(CASE WHEN {condition.format(r=row)} THEN 1 ELSE 0 END)"
            for _name, condition in self.counts
        ]

    def _insert(self) -> str:
        return f"INSERT INTO {self.table} (campaign_id, {', '.join(self.columns)})"

    def _from_rows(self, rows: str, sign: str) -> str:
        sums = ", ".join(f"SUM({one})" for one in self._ones("r", sign))
        return f"SELECT r.campaign_id, {sums} FROM {rows} r GROUP BY r.campaign_id"

    def postgresql_install(self) -> list[str]:
        ones_new, ones_old = self._ones("r"), self._ones("r", "-")
        names = self.columns
        changed = " OR ".join(f"SUM({name}) <> 0" for name in names)
        update = (
            f"{self._insert()} SELECT campaign_id, {', '.join(f'SUM({n})' for n in names)} "
            f"FROM (SELECT r.campaign_id, "
            + ", ".join(f"{one} AS {n}" for one, n in zip(ones_new, names, strict=True))
            + " FROM new_rows r UNION ALL SELECT r.campaign_id, "
            + ", ".join(f"{one} AS {n}" for one, n in zip(ones_old, names, strict=True))
            + f" FROM old_rows r) d GROUP BY campaign_id HAVING {changed};"
        )
        function = f"{self.table}_apply"
        return [
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {self._insert()} {self._from_rows("new_rows", "")};
    ELSIF TG_OP = 'DELETE' THEN
        {self._insert()} {self._from_rows("old_rows", "-")};
    ELSE
        {update}
    END IF;
    RETURN NULL;
END $$""",
            f"CREATE TRIGGER {self.table}_insert AFTER INSERT ON {self.source} "
            f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {self.table}_update AFTER UPDATE ON {self.source} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {self.table}_delete AFTER DELETE ON {self.source} "
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]

    def postgresql_uninstall(self) -> list[str]:
        return [
            *(
                f"DROP TRIGGER IF EXISTS {self.table}_{op} ON {self.source}"
                for op in ("insert", "update", "delete")
            ),
            f"DROP FUNCTION IF EXISTS {self.table}_apply()",
        ]

    def sqlite_install(self) -> list[str]:
        new, old = ", ".join(self._ones("NEW")), ", ".join(self._ones("OLD", "-"))
        differs = " OR ".join(
            [
                "OLD.campaign_id IS NOT NEW.campaign_id",
                *(
                    f"({a}) <> ({b})"
                    for a, b in zip(self._ones("OLD"), self._ones("NEW"), strict=True)
                ),
            ]
        )
        watched = ", ".join(["campaign_id", *self.watched])
        return [
            f"CREATE TRIGGER {self.table}_insert AFTER INSERT ON {self.source} BEGIN "
            f"{self._insert()} VALUES (NEW.campaign_id, {new}); END",
            f"CREATE TRIGGER {self.table}_update AFTER UPDATE OF {watched} ON {self.source} "
            f"WHEN {differs} BEGIN "
            f"{self._insert()} VALUES (OLD.campaign_id, {old}); "
            f"{self._insert()} VALUES (NEW.campaign_id, {new}); END",
            f"CREATE TRIGGER {self.table}_delete AFTER DELETE ON {self.source} BEGIN "
            f"{self._insert()} VALUES (OLD.campaign_id, {old}); END",
        ]

    def sqlite_uninstall(self) -> list[str]:
        operations = ("insert", "update", "delete")
        return [f"DROP TRIGGER IF EXISTS {self.table}_{op}" for op in operations]

    def backfill(self) -> str:
        """The counts of the rows already there, as one delta row per campaign."""
        return f"{self._insert()} {self._from_rows(self.source, '')}"

    def compact(self) -> None:
        """One row per campaign instead of its deltas; rows of deleted campaigns
        go. Deltas written meanwhile by other transactions stay as they are
        (PostgreSQL: the DELETE only takes the rows its snapshot sees)."""
        names = ", ".join(self.columns)
        sums = ", ".join(f"SUM({name})" for name in self.columns)
        live = "campaign_id IN (SELECT id FROM campaigns_campaign)"
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"WITH gone AS (DELETE FROM {self.table} RETURNING campaign_id, {names}) "
                    f"{self._insert()} SELECT campaign_id, {sums} FROM gone WHERE {live} "
                    "GROUP BY campaign_id"
                )
                return
            # SQLite has one writer at a time: read, clear and write back.
            cursor.execute(
                f"SELECT campaign_id, {sums} FROM {self.table} WHERE {live} GROUP BY campaign_id"
            )
            rows = cursor.fetchall()
            cursor.execute(f"DELETE FROM {self.table}")
            placeholders = ", ".join(["%s"] * (len(self.columns) + 1))
            cursor.executemany(f"{self._insert()} VALUES ({placeholders})", rows)


def install(tally: Tally, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """For a migration: the triggers of this database, then the counts so far."""
    vendor = schema_editor.connection.vendor
    statements = (
        tally.postgresql_install()
        if vendor == "postgresql"
        else tally.sqlite_install()
        if vendor == "sqlite"
        else []
    )
    for statement in [*statements, tally.backfill()]:
        schema_editor.execute(statement)


def uninstall(tally: Tally, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    statements = (
        tally.postgresql_uninstall()
        if vendor == "postgresql"
        else tally.sqlite_uninstall()
        if vendor == "sqlite"
        else []
    )
    for statement in statements:
        schema_editor.execute(statement)


CLOSED_PROSPECT_STATUSES = ("won", "lost", "unresponsive")

PROSPECTS = Tally(
    source="outreach_prospect",
    table="outreach_prospecttally",
    counts=(
        ("prospects", "TRUE"),
        (
            "open_prospects",
            "{r}.status NOT IN (" + ", ".join(f"'{s}'" for s in CLOSED_PROSPECT_STATUSES) + ")",
        ),
    ),
    watched=("status",),
)
BACKLINKS = Tally(
    source="links_backlink",
    table="links_backlinktally",
    counts=(("backlinks", "TRUE"), ("live_backlinks", "{r}.state = 'live'")),
    watched=("state",),
)
TALLIES = (PROSPECTS, BACKLINKS)


def compact_all() -> None:
    for tally in TALLIES:
        tally.compact()
