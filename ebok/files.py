"""Serving a cooperative's private files: only through views that checked the right."""

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from ebok.models import Document


def document_attachment(document: Document) -> FileResponse:
    """The document's PDF as a download; a missing or out-of-place file is a 404."""
    try:
        stream = default_storage.open(document.stored_path, "rb")
    except (FileNotFoundError, SuspiciousFileOperation) as error:
        raise Http404 from error
    response = FileResponse(
        stream, as_attachment=True, filename=document.file_name, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
