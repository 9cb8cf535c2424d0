"""Searches kept in the session, so that names, addresses, e-mail addresses and
logins never travel in a URL, where access logs, proxies and the browser's
history would keep them (ASVS 8.3.1, docs/decisions/0720-…). A search (the
people search's words, the audit log's filters) is POSTed once; its pages are
then plain GETs addressed by a random key that means nothing outside this
session, so paging, reloading and the back button work as before."""

import secrets

SESSION_KEY = "panel_searches"
# Enough for a few tabs and a walk back through earlier searches.
SEARCHES_KEPT = 20


def remember_search(session, query: str | dict[str, str]) -> str:
    """Keep ``query`` (words, or a form's fields) in the session; the key to find it again."""
    key = secrets.token_urlsafe(9)
    searches = {**session.get(SESSION_KEY, {}), key: query}
    # Dicts keep insertion order: the oldest searches go first.
    session[SESSION_KEY] = dict(list(searches.items())[-SEARCHES_KEPT:])
    return key


def recall_search(session, key: str, empty: str | dict = "") -> str | dict[str, str]:
    """The query kept under ``key``; ``empty`` when this session never made it, or
    made it on another page (a query of another type than ``empty``)."""
    query = session.get(SESSION_KEY, {}).get(key, empty)
    return query if isinstance(query, type(empty)) else empty
