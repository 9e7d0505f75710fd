"""Labels for raw choice values in rows that are not model instances (the
timeline is a UNION of two tables, so it yields plain values)."""

from __future__ import annotations

from django import template

from outreach.models import OutreachActivity, Status

register = template.Library()

_STATUS = dict(Status.choices)
_ACTIVITY = dict(OutreachActivity.Kind.choices)


@register.filter
def status_label(value: str) -> str:
    return _STATUS.get(value, value)


@register.filter
def activity_label(value: str) -> str:
    return _ACTIVITY.get(value, value)
