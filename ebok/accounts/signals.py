"""Every authentication decision goes to the cooperative's audit log."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import connection
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from ebok.accounts import audit, services


def _in_cooperative() -> bool:
    return connection.schema_name != get_public_schema_name()


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    if _in_cooperative():
        services.record_login(user=user, request=request)
        audit.record("login.succeeded", actor=user, target=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    if _in_cooperative():
        attempted = str(credentials.get("username") or credentials.get("login") or "")[:64]
        audit.record("login.failed", target=attempted, request=request)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if _in_cooperative() and user is not None:
        audit.record("logout", actor=user, target=user, request=request)
