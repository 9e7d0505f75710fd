"""Operations that write backlinks and alerts. Views, tasks, commands and the admin
all call these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from links.models import Alert, Backlink
from links.verification.urls import InvalidURL, normalize_url
from outreach.models import Status
from outreach.services import change_status

if TYPE_CHECKING:
    from campaigns.models import TargetPage, User
    from outreach.models import Prospect


# placeholder: replaced by the verifier's request_check on merge
def request_check(backlink: Backlink, *, by: User | None = None) -> None:
    """Ask for a verification of ``backlink`` as soon as a worker is free."""
    now = timezone.now()
    Backlink.objects.filter(pk=backlink.pk).update(check_requested_at=now, next_check_at=now)
    backlink.check_requested_at = backlink.next_check_at = now


@transaction.atomic
def record_won_link(
    prospect: Prospect,
    *,
    by: User | None,
    source_url: str,
    target_page: TargetPage | None,
    target_url: str = "",
    anchor_text: str = "",
    cost: Decimal | None = None,
    won_on: date | None = None,
) -> Backlink:
    """A prospect said yes: record the backlink it gave us, mark the prospect won
    (with its history row), and queue the link's first check.

    ``target_url`` defaults to the target page's URL. Raises ValidationError with
    per-field messages for a bad URL, a target page of another campaign, or a
    link that is already recorded.
    """
    campaign = prospect.campaign
    if target_page is not None and target_page.campaign_id != campaign.pk:
        raise ValidationError({"target_page": "That target page belongs to another campaign."})
    target_url = (target_url or "").strip() or (target_page.url if target_page else "")
    if not target_url:
        raise ValidationError({"target_url": "Choose a target page or enter the linked URL."})
    backlink = Backlink(
        campaign=campaign,
        prospect=prospect,
        target_page=target_page,
        expected_anchor_text=anchor_text.strip(),
        cost=cost,
        won_by=by,
        won_on=won_on or timezone.localdate(),
    )
    errors: dict[str, str] = {}
    for field, url in (("source_url", source_url), ("target_url", target_url)):
        try:
            normalize_url(url)
        except InvalidURL as exc:
            errors[field] = f"Not a usable URL: {exc}."
    if cost is not None and cost < 0:
        errors["cost"] = "The cost cannot be negative."
    if errors:
        raise ValidationError(errors)
    backlink.set_urls(source_url, target_url)
    duplicate = Backlink.objects.filter(
        campaign=campaign,
        source_url_key=backlink.source_url_key,
        target_url_key=backlink.target_url_key,
    ).exists()
    if duplicate:
        raise ValidationError(
            {"source_url": "This link, from this page to this target, is already recorded."}
        )
    backlink.save()
    # Writes no history row if the prospect was already won (another link from it).
    change_status(prospect, to_status=Status.WON, by=by)
    request_check(backlink)
    return backlink


def mark_alerts_read(alerts: QuerySet[Alert], *, by: User) -> int:
    """Mark the unread ones among ``alerts`` read by ``by``, in one UPDATE; an alert
    already read keeps its first reader. Returns how many changed."""
    return alerts.filter(read_at__isnull=True).update(read_at=timezone.now(), read_by=by)
