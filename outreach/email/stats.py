"""The outreach numbers of the managers' dashboard: emails sent, replies and wins
per template and per member."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Cast

from campaigns.models import Campaign
from outreach.email.models import InboundEmail, ScheduledEmail, Sequence
from outreach.models import Status


def _rate(numerator: str, denominator: str) -> Case:
    """numerator / denominator as a percentage, computed by the database; None
    when nothing was sent yet (0 % would claim a result)."""
    return Case(
        When(**{denominator: 0}, then=Value(None)),
        default=Cast(F(numerator), FloatField()) * 100.0 / Cast(F(denominator), FloatField()),
        output_field=FloatField(),
    )


def _outreach_numbers(queryset: QuerySet[Sequence]) -> QuerySet[Sequence]:
    """Per group of sequences: emails sent, sequences contacted (at least one email
    sent), open (still running), replied (a reply or unsubscribe came back), won
    (the prospect is won now); reply and win rates over those contacted."""
    sent = Q(emails__state=ScheduledEmail.State.SENT)
    replied = Q(
        stop_reason__in=[Sequence.StopReason.REPLIED, Sequence.StopReason.UNSUBSCRIBED]
    ) | Q(inbound__kind__in=[InboundEmail.Kind.REPLY, InboundEmail.Kind.UNSUBSCRIBE])
    return queryset.annotate(
        emails_sent=Count("emails", filter=sent, distinct=True),
        contacted=Count("pk", filter=sent, distinct=True),
        open=Count("pk", filter=Q(state=Sequence.State.ACTIVE), distinct=True),
        replied=Count("pk", filter=replied & sent, distinct=True),
        won=Count("pk", filter=Q(prospect__status=Status.WON) & sent, distinct=True),
    ).annotate(reply_rate=_rate("replied", "contacted"), win_rate=_rate("won", "contacted"))


def outreach_stats(campaign: Campaign) -> dict[str, Any]:
    """The outreach table of the managers' dashboard: per template and per member
    (who started the sequences), plus the campaign's totals. Three queries."""
    sequences = Sequence.objects.filter(campaign=campaign).order_by()
    by_template = list(
        _outreach_numbers(sequences.values("template_id", "template__name")).order_by(
            "-emails_sent", "template__name"
        )
    )
    by_member = list(
        _outreach_numbers(sequences.values("started_by_id", "started_by__username")).order_by(
            "-emails_sent", "started_by__username"
        )
    )
    # Grouped by the campaign: one group, the whole campaign's totals.
    totals = _outreach_numbers(sequences.values("campaign_id")).order_by("campaign_id").first()
    return {"by_template": by_template, "by_member": by_member, "totals": totals}
