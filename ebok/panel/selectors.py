"""Reads for the staff console: people from the accounting copy with their
premises and e-BOK accounts, in a constant number of queries per page."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from ebok.accounts import selectors as accounts
from ebok.accounts.models import User
from ebok.models import ErasureRecord, Person, Premises, Title

MAX_TERMS = 6


@dataclass
class PersonCard:
    person: Person
    premises: list[Premises]
    account: User | None
    erasures: list[ErasureRecord] = field(default_factory=list)


def _term_filter(term: str) -> Q:
    """One word of the query matches a person's name, e-mail, or one of their
    premises' account number or address."""
    premises_match = (
        Q(premises__account_number__icontains=term)
        | Q(premises__street_address__icontains=term)
        | Q(premises__unit_number__iexact=term)
        | Q(premises__city__icontains=term)
    )
    held = Title.objects.filter(person_id=OuterRef("source_id")).filter(premises_match)
    return (
        Q(last_name__icontains=term)
        | Q(first_name__icontains=term)
        | Q(email__icontains=term)
        | Q(source_id__iexact=term)
        | Exists(held)
    )


def _terms(query: str) -> list[str]:
    # "Kwiatowa 1/2" means street Kwiatowa, building 1, unit 2.
    words = query.replace("/", " ").replace(",", " ").split()
    return words[:MAX_TERMS]


def search_people(query: str) -> QuerySet[Person]:
    """People matching every word of ``query``; empty query → nobody."""
    terms = _terms(query)
    if not terms:
        return Person.objects.none()
    people = Person.objects.all()
    for term in terms:
        people = people.filter(_term_filter(term))
    return people.order_by("last_name", "first_name", "source_id")


def _held_titles(on: date) -> Prefetch:
    titles = (
        Title.objects.filter(valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .select_related("premises")
        .order_by("premises__kind", "premises__street_address", "premises__unit_number")
    )
    return Prefetch("titles", queryset=titles, to_attr="held_titles")


def people_cards(people) -> list[PersonCard]:
    """Cards for a page of people: 3 queries whatever the page size."""
    people = list(people.prefetch_related(_held_titles(timezone.localdate())))
    ids = [person.source_id for person in people]
    accounts_by_person = accounts.resident_accounts_of(ids)
    erasures = accounts.erasures_of(ids)
    return [
        PersonCard(
            person=person,
            premises=[title.premises for title in person.held_titles],
            account=accounts_by_person.get(person.source_id),
            erasures=erasures.get(person.source_id, []),
        )
        for person in people
    ]


def person_card(source_id: str) -> PersonCard:
    cards = people_cards(Person.objects.filter(source_id=source_id))
    if not cards:
        raise Http404
    return cards[0]
