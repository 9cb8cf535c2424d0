"""One-time messages in a cookie whose name follows the other cookies' rules."""

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage


class PrefixedCookieStorage(CookieStorage):
    """Django's signed cookie storage, named by MESSAGE_COOKIE_NAME: ``__Host-messages``
    in production, like the session and CSRF cookies (the stock name is fixed)."""

    @property
    def cookie_name(self) -> str:
        return settings.MESSAGE_COOKIE_NAME
