"""Operations that write prospects and their history. Views, tasks, commands and
the admin all call these, so every status change leaves its history row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.access import campaigns_for
from links.verification.urls import InvalidURL
from outreach.models import OutreachActivity, Prospect, Status, StatusChange, Tag

if TYPE_CHECKING:
    from campaigns.models import Campaign, User


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


# Bulk actions on the rows a user ticked in the prospects table. Each takes the
# campaign and the ids as posted, and acts only on that campaign's prospects, so
# an id from another campaign is ignored rather than trusted. Each runs a fixed
# number of queries however many rows are selected.

MAX_BULK = 500


def _selected(campaign: Campaign, prospect_ids: Iterable[int]) -> QuerySet[Prospect]:
    ids = list(dict.fromkeys(int(pk) for pk in prospect_ids))
    if len(ids) > MAX_BULK:
        raise ValidationError(f"Select at most {MAX_BULK} prospects at a time.")
    return Prospect.objects.filter(campaign=campaign, pk__in=ids)


@transaction.atomic
def bulk_assign(
    campaign: Campaign, *, prospect_ids: Iterable[int], assignee: User | None, by: User | None
) -> int:
    """Give the selected prospects to ``assignee`` (None: unassign). Returns how many
    changed. The assignee must be able to see the campaign, or they would own work
    they cannot open."""
    selected = _selected(campaign, prospect_ids)
    if assignee is None:
        selected = selected.filter(assignee__isnull=False)
    else:
        if not campaigns_for(assignee).filter(pk=campaign.pk).exists():
            raise ValidationError(f"{assignee.get_username()} is not on this campaign.")
        selected = selected.exclude(assignee=assignee)
    return selected.update(assignee=assignee, updated_at=timezone.now())


@transaction.atomic
def bulk_change_status(
    campaign: Campaign,
    *,
    prospect_ids: Iterable[int],
    to_status: str,
    by: User | None,
    at: datetime | None = None,
) -> int:
    """Move the selected prospects to ``to_status``, with one history row each
    (like ``change_status``, a prospect already there gets none). Returns how many
    changed."""
    to_status = Status(to_status)
    at = at or timezone.now()
    # Locked in id order, the same order every bulk action uses, so two people
    # changing overlapping selections queue instead of deadlocking.
    moving = list(
        _selected(campaign, prospect_ids)
        .exclude(status=to_status)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", "status")
    )
    StatusChange.objects.bulk_create(
        StatusChange(
            prospect_id=pk, from_status=old, to_status=to_status, changed_by=by, changed_at=at
        )
        for pk, old in moving
    )
    return Prospect.objects.filter(pk__in=[pk for pk, _ in moving]).update(
        status=to_status, updated_at=timezone.now()
    )


@transaction.atomic
def bulk_add_tag(
    campaign: Campaign, *, prospect_ids: Iterable[int], tag_name: str, by: User | None
) -> tuple[Tag, int]:
    """Tag the selected prospects, creating the tag in this campaign if it is new.
    Returns the tag and how many prospects gained it."""
    name = " ".join(tag_name.split())
    if not name:
        raise ValidationError("Enter a tag name.")
    if len(name) > Tag._meta.get_field("name").max_length:
        raise ValidationError("A tag name has at most 60 characters.")
    tag = Tag.objects.filter(campaign=campaign, name__iexact=name).first()
    if tag is None:
        tag = Tag.objects.create(campaign=campaign, name=name)
    Through = Prospect.tags.through
    untagged = _selected(campaign, prospect_ids).exclude(tags=tag).values_list("pk", flat=True)
    links = [Through(prospect_id=pk, tag_id=tag.pk) for pk in untagged]
    Through.objects.bulk_create(links, ignore_conflicts=True)
    return tag, len(links)
