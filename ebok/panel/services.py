"""Writes of the staff console on the cooperative itself (its row lives in the
public schema; its files in the cooperative's private storage)."""

import io
import secrets

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image

from connectors.services import set_schedule, start_sync
from ebok.accounts import audit
from tenants.middleware import forget_cached_hosts

CONTACT_FIELDS = (
    "contact_room",
    "contact_address",
    "contact_phone",
    "contact_email",
    "contact_hours",
)
LOGO_BOX = (800, 300)


def _normalised_logo(upload) -> ContentFile:
    """Re-encode the upload as a PNG of bounded size: whatever else the file
    carried (metadata, a second format) does not survive."""
    upload.seek(0)
    with Image.open(upload) as image:
        image = image.convert("RGBA")
        image.thumbnail(LOGO_BOX)
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
    return ContentFile(out.getvalue(), name=f"logo-{secrets.token_hex(8)}.png")


@transaction.atomic
def update_cooperative_settings(
    cooperative, *, values: dict, logo=None, remove_logo=False, actor=None, request=None
) -> list[str]:
    """Contact data, rules of use, accent colour and logo; a changed rules text is a
    new version that every resident must accept again. Returns the changed fields."""
    changed = [
        name
        for name in (*CONTACT_FIELDS, "rules_text", "accent_color")
        if name in values and getattr(cooperative, name) != values[name]
    ]
    for name in changed:
        setattr(cooperative, name, values[name])
    if "rules_text" in changed:
        cooperative.rules_version += 1
        changed.append("rules_version")
    old_logo = cooperative.logo.name if cooperative.logo else ""
    if logo is not None or (remove_logo and old_logo):
        cooperative.logo = _normalised_logo(logo) if logo is not None else ""
        changed.append("logo")
    if not changed:
        return []
    cooperative.save()
    if "logo" in changed and old_logo:
        transaction.on_commit(lambda: cooperative.logo.storage.delete(old_logo))
    forget_cached_hosts()
    audit.record(
        "cooperative.settings_changed",
        actor=actor,
        request=request,
        fields=changed,
        rules_version=cooperative.rules_version,
    )
    return changed


@transaction.atomic
def update_schedule(connector_settings, *, schedule: str, enabled: bool, actor=None, request=None):
    set_schedule(connector_settings, schedule)
    connector_settings.enabled = enabled
    connector_settings.save(update_fields=["enabled"])
    audit.record(
        "connector.schedule_changed",
        actor=actor,
        request=request,
        schedule=connector_settings.schedule,
        enabled=enabled,
    )


def start_manual_sync(cooperative, *, trigger: str, actor=None, request=None) -> str:
    """A sync started by staff ("sync now", console or API): queued and audited.

    Returns the task id; raises ``SyncNotConfigured`` when there is no connector.
    """
    task_id = start_sync(cooperative, trigger=trigger)
    audit.record("sync.started", actor=actor, request=request, trigger=trigger)
    return task_id
