"""Read side of prospecting: scan results with ranked targets, the link gap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, Max, Min, OuterRef, QuerySet, Subquery, Sum

from campaigns.models import Campaign
from links.models import Backlink
from links.prospecting.models import (
    BacklinkExport,
    BrokenLinkScan,
    DeadLink,
    DeadLinkCheck,
    ReferringDomain,
)
from links.prospecting.ranking import Ranked, rank_for_link
from links.verification.urls import registrable_domain
from outreach.models import Kind, Prospect

# A campaign has a handful of target pages, rarely more than a few dozen; the
# ranking reads them once per page of results.
MAX_TARGETS_RANKED = 200
TARGETS_SHOWN = 3


def pickable_prospects(campaign: Campaign) -> QuerySet[Prospect]:
    """Prospects whose page can be scanned: broken_link ones, newest first."""
    return Prospect.objects.filter(campaign=campaign, kind=Kind.BROKEN_LINK).only(
        "pk", "url", "dead_url"
    )[:100]


def broken_link_prospects(campaign: Campaign) -> QuerySet[Prospect]:
    """Open broken_link prospects with a dead link, each with its latest re-check:
    the list to go through before sending the emails."""
    latest = DeadLinkCheck.objects.filter(
        prospect=OuterRef("pk"), checked_at__isnull=False
    ).order_by("-checked_at")
    return (
        Prospect.objects.open()
        .filter(campaign=campaign, kind=Kind.BROKEN_LINK)
        .exclude(dead_url="")
        .select_related("offered_target")
        .annotate(
            last_outcome=Subquery(latest.values("outcome")[:1]),
            last_reason=Subquery(latest.values("reason")[:1]),
            last_checked_at=Subquery(latest.values("checked_at")[:1]),
        )
        .order_by("-created_at")
    )


def dead_links(scan: BrokenLinkScan, *, verdict: str = "") -> QuerySet[DeadLink]:
    links = DeadLink.objects.filter(scan=scan).select_related("page", "prospect")
    if verdict:
        links = links.filter(verdict=verdict)
    return links.order_by("verdict", "page__position", "pk")


@dataclass
class DeadLinkRow:
    link: DeadLink
    ranked: list[Ranked]

    @property
    def suggested(self) -> list[Ranked]:
        """The best few targets that share any words with the link."""
        return [ranked for ranked in self.ranked[:TARGETS_SHOWN] if ranked.score > 0]


def with_ranked_targets(links: list[DeadLink], campaign: Campaign) -> list[DeadLinkRow]:
    """Each dead link with the campaign's target pages that would best replace it."""
    targets = list(campaign.target_pages.all()[:MAX_TARGETS_RANKED])
    rows = []
    for link in links:
        ranked = rank_for_link(link.anchor_text, link.context, targets)
        rows.append(DeadLinkRow(link, list(ranked)))
    return rows


# --- Link gap ------------------------------------------------------------------------------


def exports(campaign: Campaign) -> QuerySet[BacklinkExport]:
    return BacklinkExport.objects.filter(campaign=campaign).select_related("uploaded_by")[:100]


def our_domains(campaign: Campaign) -> tuple[QuerySet[Any], QuerySet[Any]]:
    """Domains that already link to us: our backlinks, and exports of our own site."""
    return (
        Backlink.objects.filter(campaign=campaign).values("source_domain"),
        ReferringDomain.objects.filter(campaign=campaign, is_ours=True).values("domain"),
    )


def link_gap(
    campaign: Campaign, *, min_competitors: int = 2, domains: list[str] | None = None
) -> QuerySet[Any]:
    """Referring domains of competitors that do not link to us, one row each:
    how many competitors they link to, their rating, a sample linking page, and
    whether they are already a prospect. Most competitors first, then rating."""
    backlinks, own_exports = our_domains(campaign)
    rows = ReferringDomain.objects.filter(campaign=campaign, is_ours=False)
    if domains is not None:
        rows = rows.filter(domain__in=domains)
    return (
        rows.exclude(domain__in=backlinks)
        .exclude(domain__in=own_exports)
        .exclude(domain=registrable_domain(campaign.site))
        .values("domain")
        .annotate(
            competitors=Count("competitor", distinct=True),
            rating=Max("domain_rating"),
            link_count=Sum("links"),
            sample_url=Min("sample_url"),
            is_prospect=Exists(
                Prospect.objects.filter(campaign=campaign, domain=OuterRef("domain"))
            ),
        )
        .filter(competitors__gte=min_competitors)
        .order_by("-competitors", F("rating").desc(nulls_last=True), "domain")
    )


def competitors_of(campaign: Campaign, domains: list[str]) -> dict[str, list[str]]:
    """Which competitors each of these domains links to (one query for a page of rows)."""
    pairs = (
        ReferringDomain.objects.filter(campaign=campaign, is_ours=False, domain__in=domains)
        .values_list("domain", "competitor")
        .distinct()
        .order_by("domain", "competitor")
    )
    result: dict[str, list[str]] = {}
    for domain, competitor in pairs:
        result.setdefault(domain, []).append(competitor)
    return result
