"""Showing a stored quality score (campaigns.quality) and its parts."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _points(value: Any) -> str:
    return f"{float(value or 0):g}"


@register.filter
def quality_summary(parts: dict[str, Any] | None) -> str:
    """The parts of a stored score, one line each, for a title attribute."""
    if not parts or not parts.get("parts"):
        return "Not scored yet."
    lines = [
        f"{p['label']}: {_points(p['points'])} of {_points(p['max_points'])}. {p['explanation']}"
        for p in parts["parts"]
    ]
    known = parts.get("known_weight_percent")
    if known is not None and known < 100:
        lines.append(f"{known}% of the weight rests on known parts; the rest counts as neutral.")
    return "\n".join(lines)


@register.filter
def quality_band(score: int | None) -> str:
    """A CSS class for the badge: low, mid or high."""
    if score is None:
        return "none"
    return "high" if score >= 70 else "mid" if score >= 40 else "low"
