"""Who may open which page of the staff console.

Every view is wrapped in ``staff_required(role)``: anonymous → the panel's login
page; any account that is not cooperative staff (a resident) → 404, so the
console's existence is not revealed; staff below the role → 403.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from ebok.accounts import two_factor
from ebok.accounts.denials import WRONG_AREA, DeniedAsNotFound
from ebok.accounts.models import User
from ebok.accounts.two_factor_views import PANEL, second_factor_redirect

ROLE_RANK = {User.Role.VIEWER: 1, User.Role.OPERATOR: 2, User.Role.ADMIN: 3}


def has_role(user, role: str) -> bool:
    return user.kind == User.Kind.STAFF and ROLE_RANK.get(user.role, 0) >= ROLE_RANK[role]


def staff_required(role: str = User.Role.VIEWER, *, pending_password_allowed: bool = False):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("panel:login"))
            if user.kind != User.Kind.STAFF:
                raise DeniedAsNotFound(WRONG_AREA)
            if two_factor.verification_pending(user):
                return second_factor_redirect(request, PANEL)
            if user.must_change_password and not pending_password_allowed:
                return redirect("panel:password")
            if not has_role(user, role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.panel_role = role
        return wrapped

    return decorator


viewer_required = staff_required(User.Role.VIEWER)
operator_required = staff_required(User.Role.OPERATOR)
admin_required = staff_required(User.Role.ADMIN)
