"""Every authentication decision goes to an audit log: a cooperative's own, or
on the apex host (public schema) the operators' log."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import connection
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from ebok.accounts import audit, device_cookies, services, step_up
from ebok.accounts.models import User


def _in_cooperative() -> bool:
    return connection.schema_name != get_public_schema_name()


def _operator_record(action: str, **kwargs) -> None:
    from tenants import audit as operator_audit

    operator_audit.record(action, **kwargs)


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    step_up.mark_login(request)
    if _in_cooperative():
        device_cookies.notice_new_device(user, request)
        services.record_login(user=user, request=request)
        audit.record("login.succeeded", actor=user, target=user, request=request)
    else:
        _operator_record("login.succeeded", actor=user, request=request)


def _attempted_login(credentials) -> tuple[str, dict]:
    """The login tried, only if it is one: people type their password into the
    login field by mistake, and that must not reach the audit log."""
    typed = str(credentials.get("username") or credentials.get("login") or "")[:64]
    if typed and User.objects.filter(login=typed).exists():
        return typed, {}
    return "", {"unknown_login": True}


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    login, details = _attempted_login(credentials)
    action = "reauth.failed" if getattr(request, "reauthenticating", False) else "login.failed"
    if _in_cooperative():
        audit.record(action, target=login, request=request, **details)
    else:
        _operator_record(action, actor=login, request=request, **details)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    if _in_cooperative():
        audit.record("logout", actor=user, target=user, request=request)
    else:
        _operator_record("logout", actor=user, request=request)
