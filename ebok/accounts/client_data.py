"""What a browser keeps of a session is wiped when the session ends (ASVS 8.2.3,
docs/decisions/0720-password-tools-clear-site-data-private-search.md)."""

from functools import wraps

# A logout in a browser: cached pages, cookies and any client-side storage go.
ON_LOGOUT = '"cache", "cookies", "storage"'
# Revoking an API token: a client's stored token and cached answers go; the cookies
# stay, since they belong to a portal or panel session the client did not end.
ON_REVOKE = '"cache", "storage"'


def clears_site_data(kinds: str = ON_LOGOUT):
    """Add ``Clear-Site-Data`` to every answer of the view."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response["Clear-Site-Data"] = kinds
            return response

        return wrapped

    return decorator
