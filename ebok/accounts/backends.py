from django.contrib.auth.backends import ModelBackend

from ebok.accounts.selectors import issued_password_expired


class AccountBackend(ModelBackend):
    """Login by login + password. Blocked accounts and issued passwords left
    unused past their validity never authenticate."""

    def user_can_authenticate(self, user):
        return (
            super().user_can_authenticate(user)
            and user.blocked_at is None
            and not issued_password_expired(user)
        )
