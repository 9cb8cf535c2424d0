"""The documents a resident may read, the download, and the contact page."""

from django.core.paginator import Paginator
from django.shortcuts import render

from ebok import selectors
from ebok.files import document_attachment
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
    return document_attachment(selectors.document_of(request.user, document_id))


@resident_page
def contact(request):
    return render(request, "portal/contact.html")
