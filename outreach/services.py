"""Operations that write prospects and their history. Views, tasks, commands and
the admin all call these, so every status change leaves its history row."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from links.verification.urls import InvalidURL
from outreach.models import OutreachActivity, Prospect, Status, StatusChange

if TYPE_CHECKING:
    from campaigns.models import User


@transaction.atomic
def change_status(
    prospect: Prospect, *, to_status: str, by: User | None, at: datetime | None = None
) -> StatusChange | None:
    """Move a prospect to ``to_status`` and record who did it and when.

    Returns the history row, or None when the status was already ``to_status``
    (a double click must not write a fake change).
    """
    to_status = Status(to_status)
    locked = Prospect.objects.select_for_update().get(pk=prospect.pk)
    if locked.status == to_status:
        prospect.status = locked.status
        return None
    change = StatusChange.objects.create(
        prospect=locked,
        from_status=locked.status,
        to_status=to_status,
        changed_by=by,
        changed_at=at or timezone.now(),
    )
    Prospect.objects.filter(pk=locked.pk).update(status=to_status, updated_at=timezone.now())
    prospect.status = to_status
    return change


@transaction.atomic
def log_activity(
    prospect: Prospect,
    *,
    kind: str,
    by: User | None,
    summary: str = "",
    at: datetime | None = None,
    next_follow_up: date | None = None,
    clear_follow_up: bool = False,
) -> OutreachActivity:
    """Record one touch on a prospect and, optionally, when to follow up next."""
    activity = OutreachActivity.objects.create(
        prospect=prospect,
        kind=OutreachActivity.Kind(kind),
        user=by,
        summary=summary,
        occurred_at=at or timezone.now(),
    )
    if next_follow_up is not None or clear_follow_up:
        prospect.next_follow_up = next_follow_up
        Prospect.objects.filter(pk=prospect.pk).update(
            next_follow_up=next_follow_up, updated_at=timezone.now()
        )
    return activity


@transaction.atomic
def create_prospect(*, by: User | None, **fields: object) -> Prospect:
    """Create a prospect with its first history row (from nothing to its status)."""
    prospect = Prospect(**fields)
    try:
        prospect.set_url(prospect.url)
    except InvalidURL as exc:
        raise ValidationError({"url": str(exc)}) from exc
    # Also checks the per-campaign uniqueness of the normalized URL, so a
    # duplicate gets a message instead of an IntegrityError.
    prospect.full_clean()
    prospect.save()
    StatusChange.objects.create(
        prospect=prospect, from_status="", to_status=prospect.status, changed_by=by
    )
    return prospect
