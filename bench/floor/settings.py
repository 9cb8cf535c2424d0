"""The floor of the load test: the project's settings with no middleware and no
templates, serving only bench/floor/urls.py. Never the product's URLconf."""

from ebok_platform.settings import *  # noqa: F403

MIDDLEWARE = []
TEMPLATES = []
ROOT_URLCONF = "bench.floor.urls"
