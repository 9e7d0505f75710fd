"""Keeping the stored quality scores (campaigns.quality) of backlinks and
prospects up to date.

A score's inputs live in several places: the domain rating on prospects and in
the link gap's competitor exports, relevance and what the last check saw on the
backlink, and "new referring domain" in the campaign's other backlinks. So the
score is recomputed by site: for a campaign and a set of registrable domains,
every backlink and prospect of those domains at once, in a fixed handful of
queries whatever their number. Callers that change an input say which
campaign and domains:

* a recorded check (links.services.record_checks), a won link, an import of
  backlinks, a link-gap export read or deleted: directly;
* a prospect saved or imported: outreach may not import links, so the prospect
  is marked ``quality_stale`` and the beat task ``refresh_stale_quality`` picks
  it up within a minute;
* weights changed: ``manage.py recompute_quality``.

Where a backlink's domain rating comes from, best first: its own prospect; the
highest rating among the campaign's prospects of its site; the highest among
the campaign's link-gap exports for its site. A prospect without a rating of its
own takes the link-gap one the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery

from campaigns.quality import Inputs, Quality, score
from links.models import Backlink, BacklinkState
from links.prospecting.models import ReferringDomain
from links.rowupdate import update_rows
from outreach.models import Prospect

# Domains of a campaign, or None for all of them.
Scope = Mapping[int, Iterable[str] | None]

# How many stale (campaign, domain) pairs one run of the refresh task takes.
STALE_BATCH = 5000


def weights() -> dict[str, int]:
    return settings.QUALITY_WEIGHTS


def _where(scope: Scope, domain_field: str) -> Q:
    where = Q(pk__in=[])
    for campaign_id, domains in scope.items():
        if domains is None:
            where |= Q(campaign_id=campaign_id)
        else:
            where |= Q(campaign_id=campaign_id, **{f"{domain_field}__in": sorted(set(domains))})
    return where


def backlink_inputs(
    row: Mapping[str, Any], *, rating: tuple[int | None, str], new_domain: bool
) -> Inputs:
    """A backlink's inputs from its stored fields (a ``values()`` row)."""
    state = row["state"]
    rel = row["link_rel"]
    if state == BacklinkState.LIVE:
        follows: bool | None = True
    elif state == BacklinkState.NOFOLLOW or rel:
        # Nofollow by rel or page-level; a lost link keeps what it was last seen as.
        follows = False
    else:
        follows = None
    reason = f"rel {rel}" if rel else ("page-level nofollow" if follows is False else "")
    return Inputs(
        domain_rating=rating[0],
        domain_rating_source=rating[1],
        relevance=row["relevance"],
        follows=follows,
        follow_reason=reason,
        placement=row["placement"],
        new_domain=new_domain,
    )


def prospect_inputs(row: Mapping[str, Any], *, gap_rating: int | None, new_domain: bool) -> Inputs:
    rating, source = row["domain_rating"], ""
    if rating is None and gap_rating is not None:
        rating, source = gap_rating, "from a link-gap export"
    return Inputs(
        domain_rating=rating,
        domain_rating_source=source,
        relevance=row["relevance"],
        new_domain=new_domain,
        not_yet="no link yet",
    )


def _stored(result: Quality) -> tuple[int | None, dict[str, Any]]:
    return result.score, result.to_json()


@transaction.atomic
def refresh(scope: Scope, *, prospects: bool = True) -> int:
    """Recompute the scores of the backlinks (and, unless told not to, the
    prospects) of these campaigns' domains; return how many rows changed."""
    if not scope:
        return 0
    the_weights = weights()
    if prospects:
        # Cleared before reading, so a prospect saved while this runs stays
        # stale for the next run instead of being marked fresh with old inputs.
        Prospect.objects.filter(_where(scope, "domain"), quality_stale=True).update(
            quality_stale=False
        )
    backlinks = list(
        Backlink.objects.filter(_where(scope, "source_domain"))
        .order_by("campaign_id", "source_domain", "won_on", "pk")
        .values(
            "pk",
            "campaign_id",
            "source_domain",
            "prospect_id",
            "prospect__domain_rating",
            "state",
            "link_rel",
            "placement",
            "relevance",
            "quality",
            "quality_parts",
        )
    )
    prospect_rows = list(
        Prospect.objects.filter(_where(scope, "domain")).values(
            "pk",
            "campaign_id",
            "domain",
            "domain_rating",
            "relevance",
            "quality",
            "quality_parts",
        )
    )
    gap = {
        (row["campaign_id"], row["domain"]): row["rating"]
        for row in ReferringDomain.objects.filter(_where(scope, "domain"))
        .filter(domain_rating__isnull=False)
        .values("campaign_id", "domain")
        .annotate(rating=Max("domain_rating"))
    }
    prospect_rating: dict[tuple[int, str], int] = {}
    for row in prospect_rows:
        key = (row["campaign_id"], row["domain"])
        if row["domain_rating"] is not None:
            prospect_rating[key] = max(prospect_rating.get(key, 0), row["domain_rating"])

    # The first backlink of each site, by the day it was won (the rows are in that order).
    first_of_site: dict[tuple[int, str], dict[str, Any]] = {}
    changed_links: list[Backlink] = []
    for row in backlinks:
        key = (row["campaign_id"], row["source_domain"])
        new_domain = key not in first_of_site
        first_of_site.setdefault(key, row)
        if row["prospect__domain_rating"] is not None:
            rating = (row["prospect__domain_rating"], "from its prospect")
        elif key in prospect_rating:
            rating = (prospect_rating[key], "from a prospect of this site")
        elif key in gap:
            rating = (gap[key], "from a link-gap export")
        else:
            rating = (None, "")
        result = score(backlink_inputs(row, rating=rating, new_domain=new_domain), the_weights)
        value, parts = _stored(result)
        if value != row["quality"] or parts != row["quality_parts"]:
            changed_links.append(Backlink(pk=row["pk"], quality=value, quality_parts=parts))
    update_rows(changed_links, ["quality", "quality_parts"])
    if not prospects:
        return len(changed_links)

    changed_prospects: list[Prospect] = []
    for row in prospect_rows:
        key = (row["campaign_id"], row["domain"])
        first = first_of_site.get(key)
        # New when no link of the site yet, or when this prospect gave the first.
        new_domain = first is None or first["prospect_id"] == row["pk"]
        inputs = prospect_inputs(row, gap_rating=gap.get(key), new_domain=new_domain)
        value, parts = _stored(score(inputs, the_weights))
        if value != row["quality"] or parts != row["quality_parts"]:
            changed_prospects.append(Prospect(pk=row["pk"], quality=value, quality_parts=parts))
    update_rows(changed_prospects, ["quality", "quality_parts"])
    return len(changed_links) + len(changed_prospects)


def site_ratings() -> tuple[Subquery, Subquery]:
    """The best rating a backlink's site has in its campaign: among the
    campaign's prospects of that site, and in its competitor exports. Both
    read the outer row's ``campaign_id`` and ``source_domain``."""
    site_rating = (
        Prospect.objects.filter(
            campaign_id=OuterRef("campaign_id"), domain=OuterRef("source_domain")
        )
        .order_by()
        .values("campaign_id")
        .annotate(best=Max("domain_rating"))
        .values("best")
    )
    gap_rating = (
        ReferringDomain.objects.filter(
            campaign_id=OuterRef("campaign_id"),
            # Both values named, so the (campaign, is_ours, domain) index
            # finds the site instead of reading the campaign's every row.
            is_ours__in=[False, True],
            domain=OuterRef("source_domain"),
        )
        .order_by()
        .values("campaign_id")
        .annotate(best=Max("domain_rating"))
        .values("best")
    )
    return Subquery(site_rating), Subquery(gap_rating)


def with_inputs(backlinks: QuerySet[Backlink]) -> QuerySet[Backlink]:
    """``backlinks`` annotated with the inputs that live on other rows (ratings,
    an earlier link of the same site), so that ``rescore`` can score each
    without a query of its own: the verifier's batch writes scores in the
    statement that writes its checks' results."""
    site_rating, gap_rating = site_ratings()
    earlier = Backlink.objects.filter(
        campaign_id=OuterRef("campaign_id"), source_domain=OuterRef("source_domain")
    ).filter(Q(won_on__lt=OuterRef("won_on")) | Q(won_on=OuterRef("won_on"), pk__lt=OuterRef("pk")))
    return backlinks.annotate(
        q_own_rating=Subquery(
            Prospect.objects.filter(pk=OuterRef("prospect_id")).values("domain_rating")[:1]
        ),
        q_site_rating=site_rating,
        q_gap_rating=gap_rating,
        q_earlier=Exists(earlier),
    )


def rescore(backlink: Backlink) -> None:
    """Set the score of a backlink loaded through ``with_inputs`` (not saved)."""
    if backlink.q_own_rating is not None:
        rating = (backlink.q_own_rating, "from its prospect")
    elif backlink.q_site_rating is not None:
        rating = (backlink.q_site_rating, "from a prospect of this site")
    elif backlink.q_gap_rating is not None:
        rating = (backlink.q_gap_rating, "from a link-gap export")
    else:
        rating = (None, "")
    row = {
        "state": backlink.state,
        "link_rel": backlink.link_rel,
        "placement": backlink.placement,
        "relevance": backlink.relevance,
    }
    inputs = backlink_inputs(row, rating=rating, new_domain=not backlink.q_earlier)
    backlink.quality, backlink.quality_parts = _stored(score(inputs, weights()))


def refresh_backlinks(backlinks: Iterable[Backlink], *, prospects: bool = False) -> int:
    """After these backlinks changed: their sites' scores."""
    scope: dict[int, set[str]] = defaultdict(set)
    for backlink in backlinks:
        scope[backlink.campaign_id].add(backlink.source_domain)
    return refresh(scope, prospects=prospects)


def refresh_stale(*, limit: int = STALE_BATCH) -> int:
    """The prospects marked stale (saved or imported since their last score), with
    the backlinks of their sites; a batch at a time. Returns the rows changed."""
    with transaction.atomic():
        pairs = list(
            Prospect.objects.filter(quality_stale=True)
            .order_by()
            .values_list("campaign_id", "domain")
            .distinct()[:limit]
        )
        if not pairs:
            return 0
        scope: dict[int, set[str]] = defaultdict(set)
        for campaign_id, domain in pairs:
            scope[campaign_id].add(domain)
        return refresh(scope)


def rescore_campaign(sender: object, *, campaign_id: int, **kwargs: object) -> int:
    """Every score of one campaign (a signal receiver: its exports changed)."""
    return refresh({campaign_id: None})


def refresh_all(campaign_ids: Iterable[int]) -> int:
    """Every score of these campaigns (after the weights changed), one campaign
    per transaction."""
    changed = 0
    for campaign_id in campaign_ids:
        changed += refresh({campaign_id: None})
    return changed
