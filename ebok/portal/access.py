"""Who may open a portal page: a logged-in resident who has finished the first-login steps."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from ebok.accounts import two_factor
from ebok.accounts.selectors import pending_first_login_steps
from ebok.accounts.two_factor_views import PORTAL, second_factor_redirect

STAFF_CONSOLE_URL = "/panel/"
PASSWORD_STEP = "password_change_required"  # noqa: S105 - a step name, not a password
RULES_STEP = "rules_acceptance_required"
STEP_VIEWS = {PASSWORD_STEP: "portal:password_change", RULES_STEP: "portal:rules"}


def resident_page(view=None, *, steps: tuple[str, ...] = ()):
    """Residents only (staff go to their console), never cached, and nothing
    but the pending first-login step (in order) until every step is done.

    ``steps``: the first-login steps during which this page stays reachable.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_resident:
                return redirect(STAFF_CONSOLE_URL)
            if two_factor.verification_pending(user):
                return second_factor_redirect(request, PORTAL)
            request.pending_steps = pending_first_login_steps(user, request.tenant.rules_version)
            if request.pending_steps and request.pending_steps[0] not in steps:
                return redirect(STEP_VIEWS[request.pending_steps[0]])
            return view(request, *args, **kwargs)

        return never_cache(wrapper)

    return decorate(view) if view is not None else decorate
