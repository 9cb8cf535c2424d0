"""What the portal's and the staff console's account pages share about active
sessions and API tokens; each area mounts these behind its own access check
and step-up (``step_up.recent_authentication_required``)."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from ebok.accounts import active_sessions, audit, services


def sessions_context(request, namespace: str, end_others: str) -> dict:
    """The account page's list: this account's sessions and tokens, and the
    names of the area's actions on them."""
    return {
        "active_sessions": active_sessions.active_sessions(
            request.user, request.session.session_key
        ),
        "active_tokens": list(active_sessions.active_tokens(request.user)),
        "session_urls": {
            "end": f"{namespace}:end_session",
            "end_others": f"{namespace}:{end_others}",
            "revoke": f"{namespace}:revoke_token",
        },
    }


def end_one(request, pk: int, back: str):
    if active_sessions.end_session(user=request.user, record_id=pk, request=request):
        messages.success(request, _("The session was ended."))
    else:
        messages.error(request, _("There is no such session any more."))
    return redirect(back)


def end_others(request, back: str):
    """End every other session and API token of the account; this one stays."""
    user = request.user
    services.end_sessions(user, keep_session_key=request.session.session_key)
    update_session_auth_hash(request, user)
    audit.record("account.sessions_ended", actor=user, target=user, request=request)
    messages.success(request, _("You have been logged out on every other device."))
    return redirect(back)


def revoke(request, pk: int, back: str):
    if active_sessions.revoke_token(user=request.user, token_id=pk, request=request):
        messages.success(request, _("The token was revoked."))
    else:
        messages.error(request, _("There is no such token any more."))
    return redirect(back)
