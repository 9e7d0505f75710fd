"""The one place that decides who may see and do what.

Every view starts with one of these helpers. Members see the campaigns they are
on; managers and admins see every campaign; some actions need a minimum role.
A campaign the user may not see is a 404, not a 403, so that its slug does not
leak whether it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from campaigns.models import Campaign, Role

if TYPE_CHECKING:
    from campaigns.models import User

View = Callable[..., HttpResponse]


def campaigns_for(user: User) -> Any:
    """The campaigns this user may see, as a QuerySet."""
    return Campaign.objects.visible_to(user)


def get_campaign_for_user(request: HttpRequest, slug: str) -> Campaign:
    """The campaign named by ``slug`` if the signed-in user may see it, else 404."""
    return get_object_or_404(campaigns_for(request.user), slug=slug)


def role_required(role: str = Role.MEMBER) -> Callable[[View], View]:
    """Sign-in plus a minimum role. Anonymous users go to the login page; signed-in
    users without the role get a 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_role(role):
                raise PermissionDenied(f"This page needs the {role} role.")
            return view(request, *args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator


member_required = role_required(Role.MEMBER)
manager_required = role_required(Role.MANAGER)
admin_required = role_required(Role.ADMIN)
