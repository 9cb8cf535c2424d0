"""The documents a resident may read, the download, and the contact page."""

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import render

from ebok import selectors
from ebok.portal import fragments, tables
from ebok.portal.access import resident_page
from ebok.portal.forms import DocumentFilterForm

DOCUMENTS_PAGE_SIZE = 20


@resident_page
def documents(request):
    form = DocumentFilterForm(request.GET or None)
    visible = selectors.documents(request.user, kind=form.selected_kind()).select_related(
        "premises"
    )
    page = Paginator(visible, DOCUMENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "filters": fragments.filter_form("portal/_document_filters.html", form),
        "page": page,
        "rows": tables.document_rows(page.object_list),
    }
    return render(request, "portal/documents.html", context)


@resident_page
def document_download(request, document_id):
    """Only a document the resident may see (404 for anything else), as an attachment."""
    document = selectors.document_of(request.user, document_id)
    try:
        stream = default_storage.open(document.stored_path, "rb")
    except (FileNotFoundError, SuspiciousFileOperation) as error:
        raise Http404 from error
    response = FileResponse(
        stream, as_attachment=True, filename=document.file_name, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@resident_page
def contact(request):
    return render(request, "portal/contact.html")
