from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, login, password=None, **fields):
        user = self.model(login=login, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, login, password=None, **fields):
        fields.update(kind=User.Kind.OPERATOR, is_staff=True, is_superuser=True)
        return self.create_user(login, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. Residents and staff live in their cooperative's schema;
    platform operators in the public schema."""

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("resident")
        STAFF = "staff", _("staff")
        OPERATOR = "operator", _("platform operator")

    class Role(models.TextChoices):
        ADMIN = "admin", _("administrator")
        OPERATOR = "operator", _("operator")
        VIEWER = "viewer", _("viewer")

    class BlockReason(models.TextChoices):
        MISUSE = "misuse", _("use against its purpose")
        OWNER_REQUEST = "owner_request", _("owner's request")
        OTHER = "other", _("other")

    login = models.CharField(_("login"), max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RESIDENT)
    role = models.CharField(max_length=10, choices=Role.choices, blank=True)
    # The accounting system's ID_OSOBY of a resident (not a foreign key: the
    # accounting copy is replaced by every package, the account is not).
    person_source_id = models.CharField(max_length=40, blank=True, db_index=True)
    display_name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May open the Django admin.")
    blocked_at = models.DateTimeField(null=True, blank=True)
    block_reason = models.CharField(max_length=20, choices=BlockReason.choices, blank=True)
    block_note = models.CharField(max_length=300, blank=True)
    # A password issued by staff must be replaced at first login and expires unused.
    password_issued_at = models.DateTimeField(null=True, blank=True)
    must_change_password = models.BooleanField(default=False)
    rules_accepted_version = models.PositiveIntegerField(null=True, blank=True)
    rules_accepted_at = models.DateTimeField(null=True, blank=True)
    # Bumped to end every session and token of the account at once.
    session_generation = models.PositiveIntegerField(default=0)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "login"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self):
        return self.login

    @property
    def is_resident(self) -> bool:
        return self.kind == self.Kind.RESIDENT

    @property
    def is_cooperative_staff(self) -> bool:
        return self.kind == self.Kind.STAFF

    @property
    def state(self) -> str:
        """What staff see: ``blocked``, ``must_change_password`` or ``active``."""
        if self.blocked_at is not None:
            return "blocked"
        if self.must_change_password:
            return "must_change_password"
        return "active"

    def get_session_auth_hash(self):
        # Sessions carry this hash; bumping session_generation ends them all.
        return salted_hmac(
            "ebok.accounts.session",
            f"{self.password}:{self.session_generation}",
            algorithm="sha256",
        ).hexdigest()


class LoginFailure(models.Model):
    """A failed login, kept for the counting window of device cookies
    (docs/decisions/0730-device-cookies.md). The login is kept only as a keyed
    digest: people type their password into the login field by mistake."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    login_digest = models.CharField(max_length=64)
    # The nonce of the trusted device cookie the attempt came with; empty for an untrusted client.
    device = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["login_digest", "at"], name="login_failure_login_at"),
            models.Index(fields=["device", "at"], name="login_failure_device_at"),
        ]


class SecurityKey(Device):
    """A security key or passkey (WebAuthn, FIDO2): a second factor beside the
    authenticator app, registered for this host only (the cooperative's own
    subdomain is the relying party). See docs/decisions/0790-security-keys.md."""

    # The credential id as the browser gives it (base64url), unique per authenticator.
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()
    # The authenticator's signature counter: each use must raise it (a clone would not).
    sign_count = models.PositiveBigIntegerField(default=0)
    rp_id = models.CharField(max_length=253)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("security key")
        verbose_name_plural = _("security keys")
