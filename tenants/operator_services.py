"""Writes of the operators' console (apex host), each audited in the public
schema. Onboarding is all or nothing: the cooperative, its schema, domain,
connector and first administrator exist together or not at all."""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from connectors.registry import CheckResult
from connectors.services import ConfigurationError, configure_connector
from ebok.accounts.services import AccountError, IssuedCredentials, create_staff
from tenants import audit
from tenants.models import Cooperative
from tenants.services import (
    OnboardingError,
    onboard_cooperative,
    resume_cooperative,
    suspend_cooperative,
)


class ConsoleError(Exception):
    """An operator's request that cannot be done, with a message for them."""


@dataclass(frozen=True)
class Onboarded:
    cooperative: Cooperative
    admin: IssuedCredentials
    check: CheckResult

    def __repr__(self):  # the admin's password stays out of tracebacks
        return f"Onboarded({self.cooperative.code}, admin={self.admin.user.login!r})"


def onboard(
    *,
    code: str,
    name: str,
    domain: str = "",
    connector: str,
    config: dict,
    schedule: str,
    enabled: bool,
    admin_login: str,
    admin_name: str = "",
    actor=None,
    request=None,
) -> Onboarded:
    operator = f"operator:{getattr(actor, 'login', '')}"
    try:
        with transaction.atomic():
            cooperative = onboard_cooperative(code=code, name=name, domain=domain or None)
            _row, check = configure_connector(
                cooperative, connector=connector, config=config, schedule=schedule, enabled=enabled
            )
            with schema_context(cooperative.schema_name):
                admin = create_staff(
                    login=admin_login, role="admin", display_name=admin_name, actor=operator
                )
            audit.record(
                "cooperative.onboarded",
                actor=actor,
                cooperative=cooperative,
                request=request,
                connector=connector,
                domain=cooperative.get_primary_domain().domain,
                admin=admin.user.login,
            )
    except (OnboardingError, ConfigurationError, AccountError) as error:
        raise ConsoleError(str(error)) from error
    return Onboarded(cooperative=cooperative, admin=admin, check=check)


def suspend(cooperative: Cooperative, *, reason: str, actor=None, request=None) -> None:
    if not cooperative.is_active:
        raise ConsoleError(_("%(code)s is already suspended.") % {"code": cooperative.code})
    suspend_cooperative(cooperative, reason=reason)
    audit.record(
        "cooperative.suspended",
        actor=actor,
        cooperative=cooperative,
        request=request,
        reason=reason,
    )


def resume(cooperative: Cooperative, *, actor=None, request=None) -> None:
    if cooperative.is_active:
        raise ConsoleError(_("%(code)s is not suspended.") % {"code": cooperative.code})
    resume_cooperative(cooperative)
    audit.record("cooperative.resumed", actor=actor, cooperative=cooperative, request=request)
