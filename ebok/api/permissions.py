"""Who may call what: first-login steps, account kinds and staff roles."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions

from ebok.accounts.models import User
from ebok.accounts.selectors import pending_first_login_steps
from ebok.api.errors import FirstLoginStepRequired
from ebok.panel.access import has_role

STEP_MESSAGES = {
    "password_change_required": _("Replace the issued password first: POST /api/v1/me/password/."),
    "rules_acceptance_required": _(
        "Accept the current rules of use first: POST /api/v1/me/rules/."
    ),
}


class FirstLoginComplete(permissions.BasePermission):
    """403 with the missing step until the issued password is replaced and the
    current rules are accepted."""

    def has_permission(self, request, view):
        version = request.tenant.rules_version
        steps = pending_first_login_steps(request.user, version)
        if steps:
            raise FirstLoginStepRequired(steps[0], STEP_MESSAGES[steps[0]], version)
        return True


class IsResident(permissions.BasePermission):
    message = _("This endpoint is for residents' accounts.")

    def has_permission(self, request, view):
        return request.user.kind == User.Kind.RESIDENT


class IsStaff(permissions.BasePermission):
    """Staff of the cooperative: viewers read, operators and administrators act."""

    message = _("This endpoint is for the cooperative's staff.")

    def has_permission(self, request, view):
        return has_role(request.user, User.Role.VIEWER)


def only_reads(request, view) -> bool:
    """A safe method, or a view that takes its input in a POST body and only reads
    (``posted_reads = True``: a search whose words must stay out of URLs)."""
    return request.method in permissions.SAFE_METHODS or getattr(view, "posted_reads", False)


class StaffMayAct(permissions.BasePermission):
    message = _("Your role may only read.")

    def has_permission(self, request, view):
        return only_reads(request, view) or has_role(request.user, User.Role.OPERATOR)


class TokenRecentForWrites(permissions.BasePermission):
    """A bearer token has no re-authentication of its own: staff writes need a
    token obtained (login, password and code) within the step-up window."""

    def has_permission(self, request, view):
        if only_reads(request, view):
            return True
        limit = timedelta(seconds=settings.RECENT_AUTHENTICATION_SECONDS)
        if request.auth is not None and timezone.now() - request.auth.created_at <= limit:
            return True
        raise exceptions.PermissionDenied(
            _(
                "This action needs a recent login: obtain a new token "
                "(POST /api/v1/auth/token/) and repeat it."
            ),
            code="reauthentication_required",
        )
