from __future__ import annotations

from django.http import HttpRequest


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

        return Alert.objects.filter(campaign__in=campaigns_for(user), read_at__isnull=True).count()

    return {"unread_alert_count": unread_alerts}
