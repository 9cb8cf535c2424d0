"""What a browser keeps of a session is wiped when the session ends (ASVS 8.2.3,
docs/decisions/0720-password-tools-clear-site-data-private-search.md)."""

from functools import wraps

# Cached pages and any client-side storage go. Not "cookies": the server already
# ends the session and deletes its cookie, while the device cookie must stay
# (it lets the holder in during a guessing attack, decision 0730), and browsers
# clear cookies for the whole registrable domain, i.e. every cooperative's host.
ON_LOGOUT = '"cache", "storage"'
# Revoking an API token: the same (a portal or panel session it did not end stays).
ON_REVOKE = ON_LOGOUT


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
