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

    def _differs(self, distinct: str) -> str:
        """An UPDATE changes a count: SQL over OLD and NEW (``distinct`` is the
        null-safe inequality of the dialect)."""
        pairs = zip(self._ones("OLD"), self._ones("NEW"), strict=True)
        return " OR ".join(
            [f"OLD.campaign_id {distinct} NEW.campaign_id", *(f"{a} <> {b}" for a, b in pairs)]
        )

    def _watched(self) -> str:
        return ", ".join(["campaign_id", *self.watched])

    def postgresql_install(self) -> list[str]:
        """INSERT and DELETE: one statement-level trigger each, one grouped
        INSERT per statement (a COPY of 100,000 rows adds a row per campaign).
        UPDATE: a row-level trigger, only on rows whose counts change (a trigger
        with transition tables cannot name columns, so it would copy every row
        of every UPDATE, such as each recorded check's)."""
        new, old = ", ".join(self._ones("NEW")), ", ".join(self._ones("OLD", "-"))
        return [
            f"""CREATE OR REPLACE FUNCTION {self.table}_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {self._insert()} {self._from_rows("new_rows", "")};
    ELSE
        {self._insert()} {self._from_rows("old_rows", "-")};
    END IF;
    RETURN NULL;
END $$""",
            f"""CREATE OR REPLACE FUNCTION {self.table}_apply_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {self._insert()} VALUES (OLD.campaign_id, {old}), (NEW.campaign_id, {new});
    RETURN NULL;
END $$""",
            f"CREATE TRIGGER {self.table}_insert AFTER INSERT ON {self.source} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {self.table}_apply()",
            f"CREATE TRIGGER {self.table}_update AFTER UPDATE OF {self._watched()} "
            f"ON {self.source} FOR EACH ROW WHEN ({self._differs('IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION {self.table}_apply_update()",
            f"CREATE TRIGGER {self.table}_delete AFTER DELETE ON {self.source} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {self.table}_apply()",
        ]

    def postgresql_uninstall(self) -> list[str]:
        return [
            *(
                f"DROP TRIGGER IF EXISTS {self.table}_{op} ON {self.source}"
                for op in ("insert", "update", "delete")
            ),
            f"DROP FUNCTION IF EXISTS {self.table}_apply()",
            f"DROP FUNCTION IF EXISTS {self.table}_apply_update()",
        ]

    def sqlite_install(self) -> list[str]:
        """Row-level triggers, IF NOT EXISTS: SQLite drops a table's triggers
        when a migration rebuilds the table, so they are installed again after
        every migrate (``reinstall_sqlite_triggers``)."""
        new, old = ", ".join(self._ones("NEW")), ", ".join(self._ones("OLD", "-"))
        return [
            f"CREATE TRIGGER IF NOT EXISTS {self.table}_insert AFTER INSERT ON {self.source} "
            f"BEGIN {self._insert()} VALUES (NEW.campaign_id, {new}); END",
            f"CREATE TRIGGER IF NOT EXISTS {self.table}_update "
            f"AFTER UPDATE OF {self._watched()} ON {self.source} "
            f"WHEN {self._differs('IS NOT')} BEGIN "
            f"{self._insert()} VALUES (OLD.campaign_id, {old}); "
            f"{self._insert()} VALUES (NEW.campaign_id, {new}); END",
            f"CREATE TRIGGER IF NOT EXISTS {self.table}_delete AFTER DELETE ON {self.source} "
            f"BEGIN {self._insert()} VALUES (OLD.campaign_id, {old}); END",
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
        (PostgreSQL: the DELETE only takes the rows its snapshot sees). SQLite
        (``make run``'s small data) counts again from the rows instead, which
        also mends what its triggers missed (a flush emptying the tally table
        before the counted ones)."""
        if connection.vendor != "postgresql":
            self.rebuild()
            return
        names = ", ".join(self.columns)
        sums = ", ".join(f"SUM({name})" for name in self.columns)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"WITH gone AS (DELETE FROM {self.table} RETURNING campaign_id, {names}) "
                f"{self._insert()} SELECT campaign_id, {sums} FROM gone "
                "WHERE campaign_id IN (SELECT id FROM campaigns_campaign) GROUP BY campaign_id"
            )

    def rebuild(self) -> None:
        """Count again from the rows: after writes the triggers did not see (a
        data-only restore with triggers disabled, a TRUNCATE, loaddata of a dump
        that holds tally rows too). Writers wait while it runs (PostgreSQL:
        SHARE lock on the counted table)."""
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {self.source} IN SHARE MODE")
            cursor.execute(f"DELETE FROM {self.table}")
            cursor.execute(self.backfill())


def _triggers(tally: Tally, vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return tally.postgresql_install() if install else tally.postgresql_uninstall()
    if vendor == "sqlite":
        return tally.sqlite_install() if install else tally.sqlite_uninstall()
    return []


def install(tally: Tally, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """For a migration: the triggers of this database, then the counts so far."""
    vendor = schema_editor.connection.vendor
    for statement in [*_triggers(tally, vendor, install=True), tally.backfill()]:
        schema_editor.execute(statement)


def uninstall(tally: Tally, schema_editor) -> None:  # type: ignore[no-untyped-def]
    for statement in _triggers(tally, schema_editor.connection.vendor, install=False):
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


def rebuild_all() -> None:
    for tally in TALLIES:
        tally.rebuild()


def reinstall_sqlite_triggers(using: str = "default", **kwargs: object) -> None:
    """post_migrate, SQLite only: put back the triggers a table rebuild dropped
    (a no-op when they are there). Before the tally tables exist, nothing."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "sqlite":
        return
    tables = set(conn.introspection.table_names())
    with conn.cursor() as cursor:
        for tally in TALLIES:
            if {tally.source, tally.table} <= tables:
                for statement in tally.sqlite_install():
                    cursor.execute(statement)
