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

from django.conf import settings
from django.db import connection, transaction

# The time zone the tally tables' local dates are in: the site's, as the last
# rebuild recorded it (``rebuild_all``). Read by the triggers at each write, so
# a changed TIME_ZONE needs only a recount, which the compaction task does
# itself when it notices (``compact_all``). An empty table (a flushed test
# database) means UTC, Django's default.
ZONE_TABLE = "campaigns_tallytimezone"
ZONE = f"COALESCE((SELECT name FROM {ZONE_TABLE} LIMIT 1), 'UTC')"


def _serialize(cursor, table: str) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: one compaction or rebuild of ``table`` at a time (until the
    transaction ends). Two at once would each delete only the rows their own
    snapshot sees and insert their sums beside the other's: counted twice."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"anchorage.tally.{table}"])


@dataclass(frozen=True)
class LocalDate:
    """A key: the date of a timestamp column in the site's time zone (ZONE)."""

    column: str

    def sql(self, row: str, vendor: str) -> str:
        if vendor == "postgresql":
            return f"(({row}.{self.column} AT TIME ZONE {ZONE})::date)"
        # Django registers this function on each of its SQLite connections,
        # which are the only ones that write.
        return f"django_datetime_cast_date({row}.{self.column}, {ZONE}, 'UTC')"


@dataclass(frozen=True)
class LocalWeek(LocalDate):
    """A key: the Monday of a timestamp's week in the site's time zone."""

    def sql(self, row: str, vendor: str) -> str:
        day = super().sql(row, vendor)
        if vendor == "postgresql":
            return f"(date_trunc('week', {day}::timestamp)::date)"
        # To the coming Sunday (the day itself if it is one), back to Monday.
        return f"date({day}, 'weekday 0', '-6 days')"


@dataclass(frozen=True)
class Tally:
    source: str  # the counted table
    table: str  # its tally table
    # count column -> SQL condition over {r}; "TRUE" counts every row.
    counts: tuple[tuple[str, str], ...] = ()
    # sum column -> SQL value over {r}; NULL adds nothing.
    sums: tuple[tuple[str, str], ...] = ()
    # What the counts are kept per, beside the campaign: column -> SQL over {r}
    # or a LocalDate.
    keys: tuple[tuple[str, str | LocalDate], ...] = ()
    # The rows counted at all (SQL over {r}); the others write nothing.
    where: str = "TRUE"
    # A source without a campaign_id column reaches its campaign through a
    # parent: (parent table, the source's column that refers to it). Moving a
    # parent to another campaign moves its rows' counts along.
    parent: tuple[str, str] | None = None
    # The counted table's columns the conditions, sums and keys read (UPDATE OF).
    watched: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [name for name, _sql in (*self.counts, *self.sums)]

    @property
    def key_columns(self) -> list[str]:
        return [name for name, _sql in self.keys]

    @property
    def _campaign_column(self) -> str:
        return self.parent[1] if self.parent else "campaign_id"

    def _campaign(self, row: str) -> str:
        """The row's campaign, one row at a time (row triggers)."""
        if self.parent is None:
            return f"{row}.campaign_id"
        parent, column = self.parent
        return f"(SELECT campaign_id FROM {parent} WHERE id = {row}.{column})"

    def _keys(self, row: str, vendor: str) -> list[str]:
        return [
            key.sql(row, vendor) if isinstance(key, LocalDate) else key.format(r=row)
            for _name, key in self.keys
        ]

    def _values(self, row: str, sign: str = "") -> list[str]:
        counted = [f"CASE WHEN {c.format(r=row)} THEN 1 ELSE 0 END" for _n, c in self.counts]
        summed = [f"COALESCE({value.format(r=row)}, 0)" for _n, value in self.sums]
        return [f"{sign}({value})" for value in [*counted, *summed]]

    def _row_values(self, row: str, sign: str = "") -> list[str]:
        """_values, zero for a row outside ``where`` (row triggers see every row)."""
        if self.where == "TRUE":
            return self._values(row, sign)
        where = self.where.format(r=row)
        return [f"(CASE WHEN {where} THEN {v} ELSE 0 END)" for v in self._values(row, sign)]

    def _insert(self) -> str:
        names = ", ".join(["campaign_id", *self.key_columns, *self.columns])
        return f"INSERT INTO {self.table} ({names})"

    def _row(self, row: str, vendor: str, sign: str = "") -> str:
        """One delta row for the row ``row`` (NEW or OLD)."""
        parts = [self._campaign(row), *self._keys(row, vendor), *self._row_values(row, sign)]
        return f"{self._insert()} VALUES ({', '.join(parts)})"

    def _grouped(self, rows: str, sign: str, vendor: str, *, also: str = "") -> str:
        """A grouped SELECT of delta rows over the table or transition table
        ``rows`` (each row ``r``), with ``also`` added to the WHERE."""
        if self.parent is None:
            campaign, joined = "r.campaign_id", f"{rows} r"
        else:
            parent, column = self.parent
            campaign, joined = "p.campaign_id", f"{rows} r JOIN {parent} p ON p.id = r.{column}"
        sums = [f"SUM({value})" for value in self._values("r", sign)]
        selected = [campaign, *self._keys("r", vendor), *sums]
        positions = ", ".join(str(n) for n in range(1, len(self.keys) + 2))
        where = self.where.format(r="r") + (f" AND {also}" if also else "")
        return f"SELECT {', '.join(selected)} FROM {joined} WHERE {where} GROUP BY {positions}"

    def _differs(self, distinct: str) -> str:
        """An UPDATE changes a count: SQL over OLD and NEW (``distinct`` is the
        null-safe inequality of the dialect)."""
        column = self._campaign_column

        # A local date changes only with its timestamp (and PostgreSQL allows no
        # subquery, such as ZONE's, in a WHEN).
        def key_inputs(row: str) -> list[str]:
            return [
                f"{row}.{key.column}" if isinstance(key, LocalDate) else key.format(r=row)
                for _name, key in self.keys
            ]

        pairs = [
            *zip(key_inputs("OLD"), key_inputs("NEW"), strict=True),
            *zip(self._row_values("OLD"), self._row_values("NEW"), strict=True),
        ]
        return " OR ".join(
            [f"OLD.{column} {distinct} NEW.{column}", *(f"{a} {distinct} {b}" for a, b in pairs)]
        )

    def _watched(self) -> str:
        return ", ".join([self._campaign_column, *self.watched])

    def _moved(self, vendor: str) -> list[str]:
        """When a parent moves to another campaign: its rows' counts leave the
        old campaign and arrive in the new one (SQL over the parent's OLD/NEW)."""
        assert self.parent is not None
        _parent, column = self.parent
        out, into = [], []
        for campaign, sign, statements in (("OLD", "-", out), ("NEW", "", into)):
            sums = ", ".join(f"SUM({value})" for value in self._values("r", sign))
            keys = self._keys("r", vendor)
            positions = ", ".join(str(n) for n in range(2, len(keys) + 2))
            grouped = f" GROUP BY {positions}" if keys else ""
            statements.append(
                f"{self._insert()} SELECT {', '.join([f'{campaign}.campaign_id', *keys])}, "
                f"{sums} FROM {self.source} r "
                f"WHERE r.{column} = NEW.id AND {self.where.format(r='r')}{grouped}"
            )
        return [*out, *into]

    def postgresql_install(self) -> list[str]:
        """INSERT and DELETE: one statement-level trigger each, one grouped
        INSERT per statement (a COPY of 100,000 rows adds a row per campaign and
        key). UPDATE: a row-level trigger, only on rows whose counts change (a
        trigger with transition tables cannot name columns, so it would copy
        every row of every UPDATE, such as each recorded check's)."""
        statements = [
            f"""CREATE OR REPLACE FUNCTION {self.table}_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {self._insert()} {self._grouped("new_rows", "", "postgresql")};
    ELSE
        {self._insert()} {self._grouped("old_rows", "-", "postgresql")};
    END IF;
    RETURN NULL;
END $$""",
            f"""CREATE OR REPLACE FUNCTION {self.table}_apply_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {self._row("OLD", "postgresql", "-")};
    {self._row("NEW", "postgresql")};
    RETURN NULL;
END $$""",
            f"CREATE TRIGGER {self.table}_insert AFTER INSERT ON {self.source} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {self.table}_apply()",
            f"CREATE TRIGGER {self.table}_update AFTER UPDATE OF {self._watched()} "
            f"ON {self.source} FOR EACH ROW "
            f"WHEN ({self._differs('IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION {self.table}_apply_update()",
            f"CREATE TRIGGER {self.table}_delete AFTER DELETE ON {self.source} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {self.table}_apply()",
        ]
        if self.parent:
            moved = ";\n    ".join(self._moved("postgresql"))
            statements += [
                f"""CREATE OR REPLACE FUNCTION {self.table}_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {moved};
    RETURN NULL;
END $$""",
                f"CREATE TRIGGER {self.table}_move AFTER UPDATE OF campaign_id "
                f"ON {self.parent[0]} FOR EACH ROW "
                "WHEN (OLD.campaign_id IS DISTINCT FROM NEW.campaign_id) "
                f"EXECUTE FUNCTION {self.table}_move()",
            ]
        return statements

    def postgresql_uninstall(self) -> list[str]:
        statements = [
            f"DROP TRIGGER IF EXISTS {self.table}_{op} ON {self.source}"
            for op in ("insert", "update", "delete")
        ]
        if self.parent:
            statements.append(f"DROP TRIGGER IF EXISTS {self.table}_move ON {self.parent[0]}")
        functions = ("apply", "apply_update", "move")
        return statements + [f"DROP FUNCTION IF EXISTS {self.table}_{f}()" for f in functions]

    def sqlite_install(self) -> list[str]:
        """Row-level triggers, installed after every migrate
        (config.sqlite_triggers)."""
        create = f"CREATE TRIGGER IF NOT EXISTS {self.table}"
        statements = [
            f"{create}_insert AFTER INSERT ON {self.source}{self._when('NEW')} "
            f"BEGIN {self._row('NEW', 'sqlite')}; END",
            f"{create}_update AFTER UPDATE OF {self._watched()} ON {self.source} "
            f"WHEN {self._differs('IS NOT')} BEGIN "
            f"{self._row('OLD', 'sqlite', '-')}; {self._row('NEW', 'sqlite')}; END",
            f"{create}_delete AFTER DELETE ON {self.source}{self._when('OLD')} "
            f"BEGIN {self._row('OLD', 'sqlite', '-')}; END",
        ]
        if self.parent:
            moved = "; ".join(self._moved("sqlite"))
            statements.append(
                f"{create}_move AFTER UPDATE OF campaign_id ON {self.parent[0]} "
                f"WHEN OLD.campaign_id IS NOT NEW.campaign_id BEGIN {moved}; END"
            )
        return statements

    def _when(self, row: str) -> str:
        return "" if self.where == "TRUE" else f" WHEN {self.where.format(r=row)}"

    def sqlite_uninstall(self) -> list[str]:
        operations = ("insert", "update", "delete", "move")
        return [f"DROP TRIGGER IF EXISTS {self.table}_{op}" for op in operations]

    def recount(self, vendor: str) -> str:
        """A SELECT of the counts of the rows as they are: one row per campaign
        and key, in the tally table's column order."""
        return self._grouped(self.source, "", vendor)

    def forget(self, rows: str, vendor: str) -> str:
        """Take out the counts of the rows of table ``rows``, which leave without
        a DELETE the triggers see (a dropped partition of the counted table)."""
        return f"{self._insert()} {self._grouped(rows, '-', vendor)}"

    def backfill(self, vendor: str) -> str:
        """The counts of the rows already there, as one delta row per campaign
        and key."""
        return f"{self._insert()} {self.recount(vendor)}"

    def compact(self) -> None:
        """One row per campaign and key instead of its deltas, where there is
        more than one; rows of deleted campaigns and all-zero sums go. Deltas
        written meanwhile by other transactions stay as they are (PostgreSQL:
        the DELETE only takes the rows its snapshot sees). SQLite (``make
        run``'s small data) counts again from the rows instead, which also
        mends what its triggers missed (a flush emptying the tally table before
        the counted ones)."""
        if connection.vendor != "postgresql":
            self.rebuild()
            return
        groups = ", ".join(["campaign_id", *self.key_columns])
        sums = ", ".join(f"SUM({name})" for name in self.columns)
        nonzero = " OR ".join(f"SUM({name}) <> 0" for name in self.columns)
        # The rows to fold are picked by id, so the DELETE is a hash join
        # whatever the keys (a NULL key never equals itself).
        with transaction.atomic(), connection.cursor() as cursor:
            _serialize(cursor, self.table)
            cursor.execute(
                f"WITH many AS (SELECT unnest(array_agg(id)) AS id FROM {self.table} "
                f"GROUP BY {groups} HAVING COUNT(*) > 1 "
                "OR campaign_id NOT IN (SELECT id FROM campaigns_campaign)), "
                f"gone AS (DELETE FROM {self.table} WHERE id IN (SELECT id FROM many) "
                f"RETURNING {groups}, {', '.join(self.columns)}) "
                f"{self._insert()} SELECT {groups}, {sums} FROM gone "
                "WHERE campaign_id IN (SELECT id FROM campaigns_campaign) "
                f"GROUP BY {groups} HAVING {nonzero}"
            )

    def rebuild(self) -> None:
        """Count again from the rows: after writes the triggers did not see (a
        data-only restore with triggers disabled, a TRUNCATE, loaddata of a dump
        that holds tally rows too). Writers wait while it runs (PostgreSQL:
        SHARE lock on the counted table, the only table it locks, so it waits
        for no one holding another)."""
        with transaction.atomic(), connection.cursor() as cursor:
            _serialize(cursor, self.table)
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {self.source} IN SHARE MODE")
            cursor.execute(f"DELETE FROM {self.table}")
            cursor.execute(self.backfill(connection.vendor))


def _triggers(tally: Tally, vendor: str, *, install: bool) -> list[str]:
    if vendor == "postgresql":
        return tally.postgresql_install() if install else tally.postgresql_uninstall()
    if vendor == "sqlite":
        return tally.sqlite_install() if install else tally.sqlite_uninstall()
    return []


def install(tally: Tally, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """For a migration: the triggers of this database, then the counts so far.
    SQLite's come after migrate instead (config.sqlite_triggers)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        return
    # No parameters: the conditions' LIKE patterns hold a literal %.
    for statement in [*_triggers(tally, vendor, install=True), tally.backfill(vendor)]:
        schema_editor.execute(statement, params=None)


def uninstall(tally: Tally, schema_editor) -> None:  # type: ignore[no-untyped-def]
    for statement in _triggers(tally, schema_editor.connection.vendor, install=False):
        schema_editor.execute(statement, params=None)


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

# The campaign page's pipeline and link states: counts per campaign and status
# (state), so a campaign of a quarter of a million links is a few rows to sum.
PROSPECT_STATUSES = Tally(
    source="outreach_prospect",
    table="outreach_prospectstatustally",
    keys=(("status", "{r}.status"),),
    counts=(("prospects", "TRUE"),),
    watched=("status",),
)
BACKLINK_STATES = Tally(
    source="links_backlink",
    table="links_backlinkstatetally",
    keys=(("state", "{r}.state"),),
    counts=(("backlinks", "TRUE"),),
    watched=("state",),
)

# What the dashboard's charts (campaigns.dashboard.charts) read, per campaign
# and day, so that a year of a million backlinks is a few hundred rows.

# links.models.BacklinkState; a link its latest check saw on the page.
_SEEN = "{r}.state IN ('live', 'nofollow')"
_NOFOLLOW_SEEN = "{r}.state = 'nofollow'"


def _rel_has(token: str) -> str:
    # link_rel holds whole tokens, space-separated ("nofollow sponsored").
    return f"(' ' || {{r}}.link_rel || ' ') LIKE '% {token} %'"


# campaigns.dashboard.charts.BOILERPLATE_PLACEMENTS (a test holds them equal).
BOILERPLATE_PLACEMENTS = ("navigation", "header", "footer", "sidebar", "comments")
_SPONSORED = f"{_NOFOLLOW_SEEN} AND {_rel_has('sponsored')}"
_UGC = f"{_NOFOLLOW_SEEN} AND NOT {_rel_has('sponsored')} AND {_rel_has('ugc')}"

BACKLINK_DAYS = Tally(
    source="links_backlink",
    table="links_backlinkday",
    keys=(("won_on", "{r}.won_on"),),
    counts=(
        ("links", "TRUE"),
        ("lost", "{r}.state = 'lost'"),
        # Agreed as nofollow, or found nofollow by the latest check.
        ("nofollow", "({r}.expected_dofollow = FALSE OR {r}.state = 'nofollow')"),
        ("seen", _SEEN),
        ("follow", "{r}.state = 'live'"),
        ("sponsored", _SPONSORED),
        ("ugc", _UGC),
        ("rel_nofollow", f"{_NOFOLLOW_SEEN} AND NOT ({_SPONSORED}) AND NOT ({_UGC})"),
        ("text", f"{_SEEN} AND {{r}}.link_kind = 'text'"),
        ("image", f"{_SEEN} AND {{r}}.link_kind = 'image'"),
        ("content", f"{_SEEN} AND {{r}}.placement = 'content'"),
        (
            "boilerplate",
            f"{_SEEN} AND {{r}}.placement IN ("
            + ", ".join(f"'{p}'" for p in BOILERPLATE_PLACEMENTS)
            + ")",
        ),
        ("scored", "{r}.quality IS NOT NULL"),
        # New referring domains (Backlink.first_of_site, kept by links/0022).
        ("first_links", "{r}.first_of_site"),
    ),
    sums=(
        ("quality_total", "{r}.quality"),
        # A recorded cost, else the fee agreed with its guest-post prospect
        # (copied onto the backlink by links/0022's triggers): never both.
        ("cost", "COALESCE({r}.cost, {r}.prospect_fee)"),
    ),
    watched=(
        "won_on",
        "cost",
        # prospect_fee is also set by a BEFORE trigger when prospect_id is
        # written, and UPDATE OF sees only the columns a statement names.
        "prospect_id",
        "prospect_fee",
        "expected_dofollow",
        "state",
        "link_rel",
        "link_kind",
        "placement",
        "quality",
        "first_of_site",
    ),
)
# The every-campaign referring-domain chart: the sites whose first link in any
# campaign (Backlink.first_of_site_overall, kept by links/0024) was won on a
# day, kept with the campaign that won it.
REFERRING_DOMAIN_DAYS = Tally(
    source="links_backlink",
    table="links_referringdomainday",
    keys=(("won_on", "{r}.won_on"),),
    counts=(("domains", "TRUE"),),
    where="{r}.first_of_site_overall",
    watched=("won_on", "first_of_site_overall"),
)
# The anchor-text mix: the links not lost, per day won, anchor text (trimmed,
# lower case) and target page.
ANCHOR_DAYS = Tally(
    source="links_backlink",
    table="links_anchorday",
    keys=(
        ("won_on", "{r}.won_on"),
        ("anchor", "LOWER(TRIM({r}.expected_anchor_text))"),
        ("target_page_id", "{r}.target_page_id"),
    ),
    counts=(("links", "TRUE"),),
    where="{r}.state <> 'lost'",
    watched=("won_on", "expected_anchor_text", "target_page_id", "state"),
)
# The live-over-time chart: each check that moved a backlink between live and
# not live (LinkCheck.live_changed, set by the database), +1 or -1 on the day
# it was made; and what the history folding left on summaries (links.history).
LIVE_CHECKS = Tally(
    source="links_linkcheck",
    table="links_livecheckday",
    keys=(("day", LocalDate("checked_at")),),
    sums=(("delta", "CASE WHEN {r}.verdict = 'live' THEN 1 ELSE -1 END"),),
    where="{r}.live_changed",
    parent=("links_backlink", "backlink_id"),
    watched=("live_changed", "verdict", "checked_at"),
)
LIVE_SUMMARIES = Tally(
    source="links_checksummary",
    table="links_livesummaryday",
    keys=(("day", "{r}.period_start"),),
    sums=(("delta", "{r}.live_delta"),),
    where="{r}.live_delta <> 0",
    parent=("links_backlink", "backlink_id"),
    watched=("live_delta", "period_start"),
)
# The lost-and-recovered chart: the verifier's alerts of those kinds, per
# campaign and day raised (links.models.Alert.Kind).
ALERT_DAYS = Tally(
    source="links_alert",
    table="links_alertday",
    keys=(("day", LocalDate("created_at")),),
    counts=(
        ("lost", "{r}.kind = 'lost'"),
        ("nofollow", "{r}.kind = 'nofollow'"),
        ("recovered", "{r}.kind = 'recovered'"),
    ),
    where="{r}.kind IN ('lost', 'nofollow', 'recovered')",
    watched=("kind", "created_at"),
)
# outreach.models.PIPELINE, in order (a test holds them equal).
PIPELINE_STEPS = ("new", "qualified", "contacted", "followed_up", "replied", "negotiating", "won")
PROSPECT_DAYS = Tally(
    source="outreach_prospect",
    table="outreach_prospectday",
    keys=(("day", LocalDate("created_at")), ("kind", "{r}.kind")),
    counts=(
        ("prospects", "TRUE"),
        ("won", "{r}.status = 'won'"),
        # The funnel: Prospect.furthest_step is the index of the furthest step.
        *(
            (f"reached_{step}", f"{{r}}.furthest_step >= {n}")
            for n, step in enumerate(PIPELINE_STEPS)
        ),
    ),
    watched=("created_at", "kind", "status", "furthest_step"),
)
ACTIVITY_DAYS = Tally(
    source="outreach_outreachactivity",
    table="outreach_activityday",
    keys=(("day", LocalDate("occurred_at")), ("user_id", "{r}.user_id")),
    counts=(("activities", "TRUE"),),
    parent=("outreach_prospect", "prospect_id"),
    watched=("occurred_at", "user_id"),
)

# The same per week: a year over every campaign reads a seventh of the rows
# (the days of a week a period holds only in part still come from the days).
ACTIVITY_WEEKS = Tally(
    source="outreach_outreachactivity",
    table="outreach_activityweek",
    keys=(("week", LocalWeek("occurred_at")), ("user_id", "{r}.user_id")),
    counts=(("activities", "TRUE"),),
    parent=("outreach_prospect", "prospect_id"),
    watched=("occurred_at", "user_id"),
)

TALLIES = (
    PROSPECTS,
    BACKLINKS,
    PROSPECT_STATUSES,
    BACKLINK_STATES,
    BACKLINK_DAYS,
    REFERRING_DOMAIN_DAYS,
    ANCHOR_DAYS,
    LIVE_CHECKS,
    LIVE_SUMMARIES,
    ALERT_DAYS,
    PROSPECT_DAYS,
    ACTIVITY_DAYS,
    ACTIVITY_WEEKS,
)


def _recorded_zone() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name FROM {ZONE_TABLE} LIMIT 1")
        row = cursor.fetchone()
    return row[0] if row else None


def compact_all() -> None:
    """Compact every tally; first count the local dates again if the site's
    time zone is no longer the one they were counted in."""
    if (_recorded_zone() or "UTC") != settings.TIME_ZONE:
        rebuild_all()
        return
    for tally in TALLIES:
        tally.compact()


def step_of(column: str) -> str:
    """SQL: the PIPELINE_STEPS index of the status in ``column``, NULL for the
    dead ends (lost, unresponsive)."""
    whens = " ".join(f"WHEN '{status}' THEN {n}" for n, status in enumerate(PIPELINE_STEPS))
    return f"(CASE {column} {whens} END)"


# What triggers derive beside the counts, derived from the rows by one
# statement each, on PostgreSQL and SQLite alike: the migrations that add them
# (outreach/0014, links/0022) backfill with these, and ``rederive`` repairs
# with them. Each writes only the rows whose value is wrong.
DERIVE_FURTHEST_STEP = f"""
UPDATE outreach_prospect SET furthest_step = reached.step
FROM (
    SELECT p.id, MAX({step_of("c.to_status")}) AS step FROM outreach_prospect p
    LEFT JOIN outreach_statuschange c ON c.prospect_id = p.id GROUP BY p.id
) reached
WHERE reached.id = outreach_prospect.id
  AND COALESCE(outreach_prospect.furthest_step, -1) <> COALESCE(reached.step, -1)
"""
_FEE = "(SELECT fee FROM outreach_prospect p WHERE p.id = links_backlink.prospect_id)"
DERIVE_PROSPECT_FEE = (
    f"UPDATE links_backlink SET prospect_fee = {_FEE} "
    f"WHERE COALESCE(prospect_fee, -1) <> COALESCE({_FEE}, -1)"
)
_FIRST = (
    "(SELECT x.id FROM links_backlink x WHERE x.campaign_id = links_backlink.campaign_id "
    "AND x.source_domain = links_backlink.source_domain ORDER BY x.won_on, x.id LIMIT 1)"
)
DERIVE_FIRST_OF_SITE = (
    f"UPDATE links_backlink SET first_of_site = (id = {_FIRST}) "
    f"WHERE first_of_site <> (id = {_FIRST})"
)
_FIRST_OVERALL = (
    "(SELECT x.id FROM links_backlink x WHERE x.source_domain = links_backlink.source_domain "
    "ORDER BY x.won_on, x.id LIMIT 1)"
)
DERIVE_FIRST_OF_SITE_OVERALL = (
    f"UPDATE links_backlink SET first_of_site_overall = (id = {_FIRST_OVERALL}) "
    f"WHERE first_of_site_overall <> (id = {_FIRST_OVERALL})"
)


def rederive() -> None:
    """The DERIVE_ statements again, after writes no trigger saw (history
    edited or deleted, a data-only restore): steps are lowered too, so the
    guard that keeps a stale save from lowering one stands aside meanwhile."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL anchorage.rederive = 'on'")
            guard = None
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'prospect_keep_reach'")
            guard = cursor.fetchone()
            cursor.execute("DROP TRIGGER IF EXISTS prospect_keep_reach")
        for statement in (
            DERIVE_FURTHEST_STEP,
            DERIVE_PROSPECT_FEE,
            DERIVE_FIRST_OF_SITE,
            DERIVE_FIRST_OF_SITE_OVERALL,
        ):
            cursor.execute(statement)
        if guard:
            cursor.execute(guard[0])


def rebuild_all() -> None:
    """Every tally counted again, local dates in the site's time zone as it is
    now (recorded first, so writers meanwhile use it too). One transaction per
    tally, each locking only its own counted table: a transaction that locked
    them all in turn could deadlock with a writer of two of them (the verifier
    writes checks, then backlinks)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ZONE_TABLE}")
        cursor.execute(f"INSERT INTO {ZONE_TABLE} (name) VALUES (%s)", [settings.TIME_ZONE])
    for tally in TALLIES:
        tally.rebuild()


def repair_all() -> None:
    """``rebuild_counts``: what the triggers derive, then every count, again
    from the rows."""
    rederive()
    rebuild_all()


def reinstall_sqlite_triggers(using: str = "default") -> bool:
    """SQLite, after migrate (config.sqlite_triggers): every tally's triggers
    (a no-op where they are there); False before the tally tables exist."""
    from django.db import connections

    conn = connections[using]
    tables = set(conn.introspection.table_names())
    # A tally table comes with the columns its triggers read (same migration).
    if not all({tally.source, tally.table} <= tables for tally in TALLIES):
        return False
    with conn.cursor() as cursor:
        for tally in TALLIES:
            for statement in tally.sqlite_install():
                cursor.execute(statement)
    return True
