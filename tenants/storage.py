"""Private file storage with one folder per cooperative's schema.

Files are never served from a public URL: views stream them after checking
the requester's right to them.
"""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.utils.functional import cached_property


class CooperativeFileStorage(FileSystemStorage):
    def __init__(self, **kwargs):
        kwargs.setdefault("base_url", None)
        super().__init__(**kwargs)

    @cached_property
    def _root(self):
        return settings.PRIVATE_STORAGE_ROOT

    @property
    def base_location(self):
        return self._root / connection.schema_name

    @property
    def location(self):
        return str(self.base_location.resolve())

    def url(self, name):  # pragma: no cover - deliberately unsupported
        raise NotImplementedError("Private files are served through views only.")
