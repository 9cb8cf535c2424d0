from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    """Login by login + password; blocked and inactive accounts never authenticate."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and user.blocked_at is None
