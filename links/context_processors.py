from __future__ import annotations

from django.http import HttpRequest

# The navigation badge prints counts above this as "99+".
ALERT_BADGE_MAX = 99


def navigation(request: HttpRequest) -> dict[str, object]:
    """What the navigation bar needs on every page: the unread alert count.

    It is a lazy callable so pages that do not render the bar cost no query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread_alerts() -> int:
        from campaigns.access import campaigns_for
        from links.models import Alert

        unread = Alert.objects.filter(campaign__in=campaigns_for(user), read_at__isnull=True)
        # Counted up to one past what the badge prints ("99+"): an agency with
        # a backlog of 200,000 unread alerts pays for 100 index entries, not all.
        return unread.values("pk")[: ALERT_BADGE_MAX + 1].count()

    return {"unread_alert_count": unread_alerts, "alert_badge_max": ALERT_BADGE_MAX}
