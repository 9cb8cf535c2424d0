from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ebok.accounts"
    label = "accounts"
    verbose_name = "Accounts"
