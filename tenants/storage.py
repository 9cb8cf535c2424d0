"""Private file storage with one folder per cooperative's schema.

Files are never served from a public URL: views stream them after checking
the requester's right to them.
"""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection


class CooperativeFileStorage(FileSystemStorage):
    """Documents' PDFs in it are Fernet tokens (decision 0812): ``ebok.files`` decrypts
    them, ``ebok.keys.documents`` writes them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("base_url", None)
        super().__init__(**kwargs)

    @property
    def base_location(self):
        # Read at each use, like the writers of this folder, so both follow the setting.
        return Path(settings.PRIVATE_STORAGE_ROOT) / connection.schema_name

    @property
    def location(self):
        return str(self.base_location.resolve())

    def url(self, name):  # pragma: no cover - deliberately unsupported
        raise NotImplementedError("Private files are served through views only.")
