import pytest
from django.test import Client

from ebok.accounts.models import User
from tenants.middleware import forget_cached_hosts
from tests.support import otp
from tests.support.data import household, make_resident, make_staff

BACKEND = "ebok.accounts.backends.AccountBackend"


def logged_in(cooperative, user, in_schema, host="odra.localhost") -> Client:
    """A client with a session of ``user`` stored in the cooperative's schema;
    staff also pass the second factor with an enrolled authenticator."""
    client = Client(HTTP_HOST=host)
    with in_schema(cooperative):
        client.force_login(user, backend=BACKEND)
        code = otp.code_for(otp.enrol(user)) if user.kind == User.Kind.STAFF else None
    if code is not None:
        otp.pass_second_factor(client, code)
    return client


@pytest.fixture(autouse=True)
def _forget_cached_cooperatives():
    """A cooperative changed by a test (then rolled back) must not outlive it in
    the per-process host cache."""
    yield
    forget_cached_hosts()


@pytest.fixture
def people(odra, in_schema):
    with in_schema(odra):
        return household()


@pytest.fixture
def staff_client(odra, in_schema):
    """``staff_client("viewer")`` → (client, user) of a staff member with that role."""

    def make(role="operator", login=None):
        with in_schema(odra):
            user = make_staff(login or f"{role}.staff", role=role)
        return logged_in(odra, user, in_schema), user

    return make


@pytest.fixture
def resident_client(odra, in_schema, people):
    with in_schema(odra):
        user = make_resident(people["nowak"])
    return logged_in(odra, user, in_schema), user
