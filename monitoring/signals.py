"""Lockouts reach the cooperative's audit log, where the checks count them."""

from axes.signals import user_locked_out
from django.db import connection
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from ebok.accounts import audit
from ebok.accounts.signals import _attempted_login


@receiver(user_locked_out)
def _locked_out(sender, request=None, username=None, **kwargs):
    if connection.schema_name == get_public_schema_name():
        return  # operators' lockouts: the operators' audit already has their failures
    login, details = _attempted_login({"username": username})
    audit.record("login.locked_out", target=login, request=request, **details)
