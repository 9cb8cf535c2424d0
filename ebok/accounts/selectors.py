from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ebok.accounts.models import User


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
