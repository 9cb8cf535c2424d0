"""Serving a cooperative's private files: only through views that checked the right."""

import io
import logging

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404

from ebok.keys import documents as stored_documents
from ebok.models import Document

security_log = logging.getLogger("ebok.security")


def document_attachment(document: Document) -> FileResponse:
    """The document's PDF, decrypted, as a download. A missing or out-of-place file is
    a 404; so is one that does not decrypt to its SHA-256, which is also logged: the
    stored bytes are never sent as they are."""
    try:
        with default_storage.open(document.stored_path, "rb") as stored:
            content = stored_documents.unseal(stored.read(), document.sha256)
    except (FileNotFoundError, SuspiciousFileOperation) as error:
        raise Http404 from error
    except stored_documents.UnreadableDocument as error:
        security_log.warning(
            "Stored document %s (%s) in %s refused: %s; tampered, swapped or its key is gone",
            document.pk,
            document.stored_path,
            connection.schema_name,
            error,
        )
        raise Http404 from error
    response = FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=document.file_name,
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
