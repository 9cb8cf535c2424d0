from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from ebok.accounts.models import User
from ebok.models import AuditEvent, ErasureRecord, LoginRecord


def issued_password_expired(user: User) -> bool:
    if not user.must_change_password or user.password_issued_at is None:
        return False
    limit = timedelta(days=settings.ISSUED_PASSWORD_VALID_DAYS)
    return timezone.now() - user.password_issued_at > limit


def pending_first_login_steps(user: User, rules_version: int) -> list[str]:
    """What the account must still do before it may see data: in this order."""
    steps = []
    if user.must_change_password:
        steps.append("password_change_required")
    if user.is_resident and user.rules_accepted_version != rules_version:
        steps.append("rules_acceptance_required")
    return steps


def account_by_login(login: str) -> User | None:
    return User.objects.filter(login=login).first()


def resident_by_login(login: str) -> User | None:
    return User.objects.filter(login=login, kind=User.Kind.RESIDENT).first()


def staff_by_login(login: str) -> User | None:
    return User.objects.filter(login=login, kind=User.Kind.STAFF).first()


def resident_accounts_of(person_source_ids) -> dict[str, User]:
    """Person source id → their e-BOK account, for a page of people in one query."""
    accounts = User.objects.filter(
        kind=User.Kind.RESIDENT, person_source_id__in=list(person_source_ids)
    )
    return {account.person_source_id: account for account in accounts}


def erasures_of(person_source_ids) -> dict[str, list[ErasureRecord]]:
    """Person source id → their erasure records, newest first, in one query."""
    found: dict[str, list[ErasureRecord]] = {}
    records = ErasureRecord.objects.filter(person_source_id__in=list(person_source_ids))
    for record in records.order_by("-erased_at"):
        found.setdefault(record.person_source_id, []).append(record)
    return found


def staff_accounts() -> QuerySet[User]:
    return User.objects.filter(kind=User.Kind.STAFF).order_by("login")


def last_logins(user: User, limit: int = 5) -> QuerySet[LoginRecord]:
    return LoginRecord.objects.filter(user=user).order_by("-at")[:limit]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(
    *,
    login: str = "",
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The audit log, newest first; ``login`` matches the actor or the target."""
    events = AuditEvent.objects.all()
    if login:
        events = events.filter(Q(actor_login__iexact=login) | Q(target_login__iexact=login))
    if action:
        events = events.filter(action__startswith=action)
    if date_from:
        events = events.filter(at__gte=_day_start(date_from))
    if date_to:
        events = events.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    return events.order_by("-at", "-id")


def audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def events_about(login: str, limit: int = 20) -> QuerySet[AuditEvent]:
    return audit_events(login=login)[:limit]
