from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ebok.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from ebok.accounts import device_cookies, signals  # noqa: F401 - connects the receivers
