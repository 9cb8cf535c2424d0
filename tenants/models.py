from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Cooperative(TenantMixin):
    """A housing cooperative: one tenant, one PostgreSQL schema."""

    code = models.CharField(
        _("code"), max_length=20, unique=True, help_text=_("As used by its accounting system.")
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact_room = models.CharField(_("room"), max_length=100, blank=True)
    contact_address = models.CharField(_("rent department address"), max_length=300, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=50, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    contact_hours = models.CharField(_("office hours"), max_length=300, blank=True)
    rules_text = models.TextField(_("rules of use"), blank=True)
    rules_version = models.PositiveIntegerField(_("rules version"), default=1)
    accent_color = models.CharField(_("accent colour"), max_length=7, default="#0b5cad")
    logo = models.FileField(_("logo"), upload_to="branding/", blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    suspended_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("cooperative")
        verbose_name_plural = _("cooperatives")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"

    @property
    def is_public(self) -> bool:
        from django_tenants.utils import get_public_schema_name

        return self.schema_name == get_public_schema_name()


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")


class ConnectorSettings(models.Model):
    """Which connector feeds a cooperative, how, and when (kept public so one
    dispatcher can see every cooperative's schedule in one query)."""

    cooperative = models.OneToOneField(
        Cooperative, on_delete=models.CASCADE, related_name="connector_settings"
    )
    connector = models.CharField(max_length=40)
    config = models.JSONField(default=dict, blank=True)
    # Fernet token of a JSON object (e.g. the bearer token of zsi-rest).
    encrypted_secrets = models.TextField(blank=True)
    schedule = models.CharField(max_length=60, default="daily 02:30")
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_dispatched_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=10, blank=True)
    last_error = models.TextField(blank=True)
    data_as_of = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("connector settings")
        verbose_name_plural = _("connector settings")


class OperatorAuditEvent(models.Model):
    """What a platform operator did on the apex host (public schema)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_login = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=40, db_index=True)
    cooperative_code = models.CharField(max_length=20, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("operator audit event")
        verbose_name_plural = _("operator audit events")
