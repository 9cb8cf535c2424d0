"""Residents browsing dashboard, ledger and documents; driven by bench/load_test.py.

LOAD_TARGET   portal (log in, HTML pages) or floor (bench/floor JSON views)
LOAD_USERS    JSON file of accounts: host, login, user id, premises id
LOAD_PASSWORD the accounts' password
LOAD_THINK    think time between pages in seconds, "MIN-MAX" ("0-0": none)
"""

import itertools
import json
import os
import re
from pathlib import Path

from locust import HttpUser, between, constant, task

TARGET = os.environ.get("LOAD_TARGET", "portal")
ACCOUNTS = json.loads(Path(os.environ["LOAD_USERS"]).read_text())
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
LOW, HIGH = (float(part) for part in os.environ.get("LOAD_THINK", "1-5").split("-"))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_accounts = itertools.count()


class Resident(HttpUser):
    wait_time = between(LOW, HIGH) if HIGH > 0 else constant(0)

    def on_start(self):
        self.account = ACCOUNTS[next(_accounts) % len(ACCOUNTS)]
        self.client.headers["Host"] = self.account["host"]
        self.query = {"user": self.account["user"]} if TARGET == "floor" else None
        if TARGET == "portal":
            form = self.client.get("/login/", name="login form")
            token = CSRF.search(form.text).group(1)
            credentials = {"username": self.account["login"], "password": PASSWORD}
            with self.client.post(
                "/login/",
                {**credentials, "csrfmiddlewaretoken": token},
                name="login",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code != 302:
                    response.failure(f"login answered {response.status_code}")

    def page(self, path: str, name: str) -> None:
        """A page must answer 200 itself: a redirect (to the login form) is a failure."""
        with self.client.get(
            path, params=self.query, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{name} answered {response.status_code} {response.error or ''}")

    @task(3)
    def dashboard(self):
        self.page("/" if TARGET == "portal" else "/floor/dashboard", "dashboard")

    @task(2)
    def ledger(self):
        premises = self.account["premises"]
        path = (
            f"/lokale/{premises}/rozrachunki/"
            if TARGET == "portal"
            else f"/floor/ledger/{premises}"
        )
        self.page(path, "ledger")

    @task(1)
    def documents(self):
        self.page("/dokumenty/" if TARGET == "portal" else "/floor/documents", "documents")
