from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KeysConfig(AppConfig):
    """The platform's keys: key rings, TOTP keys encrypted at rest, rotation, deploy checks."""

    name = "ebok.keys"
    label = "keys"
    verbose_name = _("Keys")

    def ready(self):
        from ebok.keys import checks  # noqa: F401 - registers the checks
