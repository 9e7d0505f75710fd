from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from campaigns.models import Role


class ManagersWrite(BasePermission):
    """Members read; managers and admins also write (campaigns, target pages)."""

    message = "This needs the manager role."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user.has_role(Role.MANAGER)


class AdminsOnly(BasePermission):
    """Bulk imports, as on the import pages."""

    message = "This needs the admin role."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_role(Role.ADMIN))
