"""bin/outdated-deps against a package index on 127.0.0.1: a runtime pin behind a patch
release of its series or yanked fails, newer minor releases and test-only lags are only
reported, an unreachable index warns (75) and an unusable answer is an error (2)."""

import json
import subprocess
import sys

import pytest

from tests.support.package_index import SIMPLE_JSON, PackageIndex, project_page
from tests.support.processes import ROOT


def outdated(tmp_path, index_url: str, pins: dict[str, str], *, runtime: set[str]):
    """bin/outdated_deps.py over these pins; ``runtime`` are the packages of the SBOM."""
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in pins.items()))
    sbom = tmp_path / "sbom.cdx.json"
    components = [{"name": name, "version": pins[name]} for name in runtime]
    sbom.write_text(json.dumps({"components": components}))
    return subprocess.run(
        [sys.executable, "bin/outdated_deps.py", "--constraints", str(constraints),
         "--sbom", str(sbom), "--index-url", index_url, "--timeout", "10",
         "--python-version", "3.11.7"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip


def row(result, name: str) -> str:
    """The report's line of one package, its columns one space apart."""
    line = next(line for line in result.stdout.splitlines() if line.startswith(f"{name} "))
    return " ".join(line.split())


def check(tmp_path, pages: dict, pins: dict[str, str], *, runtime: set[str]):
    with PackageIndex(pages) as index:
        return outdated(tmp_path, index.url, pins, runtime=runtime)


def test_pins_at_the_newest_release_pass(tmp_path):
    pages = {
        "django": project_page("django", ["5.1.9", "5.2.0", "5.2.2"]),
        "pytest": project_page("pytest", ["9.1.0", "9.2.0"]),
    }
    result = check(tmp_path, pages, {"Django": "5.2.2", "pytest": "9.2.0"}, runtime={"Django"})
    assert result.returncode == 0, result.stderr
    assert row(result, "django") == "django runtime 5.2.2 5.2.2 5.2.2 current"
    assert row(result, "pytest") == "pytest test 9.2.0 9.2.0 9.2.0 current"
    assert "Every runtime pin is the newest patch of its series" in result.stdout


def test_a_runtime_pin_behind_a_patch_release_fails_and_is_named(tmp_path):
    pages = {
        "django": project_page("django", ["5.2.1", "5.2.2", "6.0.0"]),
        "redis": project_page("redis", ["8.1.0"]),
    }
    result = check(
        tmp_path, pages, {"Django": "5.2.1", "redis": "8.1.0"}, runtime={"Django", "redis"}
    )
    assert result.returncode == 1
    assert row(result, "django") == "django runtime 5.2.1 5.2.2 6.0.0 PATCH BEHIND, newer major"
    assert "FAILED: runtime pins lag a patch release" in result.stderr
    assert "django 5.2.1 -> 5.2.2" in result.stderr
    assert "redis" not in result.stderr


def test_a_yanked_runtime_pin_fails(tmp_path):
    page = project_page("celery", ["5.7.0", "5.7.1"], yanked={"5.7.1": "broken worker shutdown"})
    result = check(tmp_path, {"celery": page}, {"celery": "5.7.1"}, runtime={"celery"})
    assert result.returncode == 1
    assert "YANKED (broken worker shutdown)" in row(result, "celery")
    assert "celery 5.7.1 (yanked)" in result.stderr


def test_a_newer_minor_release_is_reported_but_passes(tmp_path):
    page = project_page("kombu", ["5.7.0", "5.7.1", "5.8.0", "6.0.0rc1"])
    result = check(tmp_path, {"kombu": page}, {"kombu": "5.7.1"}, runtime={"kombu"})
    assert result.returncode == 0, result.stderr
    assert row(result, "kombu") == "kombu runtime 5.7.1 5.7.1 5.8.0 newer minor"


def test_a_test_only_pin_behind_a_patch_release_is_reported_but_passes(tmp_path):
    pages = {
        "django": project_page("django", ["5.2.2"]),
        "pytest": project_page("pytest", ["9.2.0", "9.2.1"]),
    }
    result = check(tmp_path, pages, {"Django": "5.2.2", "pytest": "9.2.0"}, runtime={"Django"})
    assert result.returncode == 0, result.stderr
    assert row(result, "pytest") == "pytest test 9.2.0 9.2.1 9.2.1 PATCH BEHIND"


@pytest.mark.parametrize(
    "page",
    [
        project_page("numpy", ["2.4.6", "2.4.7rc1", "2.4.8.dev0"]),
        project_page("numpy", ["2.4.6", "2.4.7"], yanked={"2.4.7": "wrong wheels"}),
        project_page("numpy", ["2.4.6", "2.4.7"], requires_python={"2.4.7": ">=3.12"}),
    ],
    ids=["pre-and-dev-releases", "yanked-release", "needs-a-newer-python"],
)
def test_a_release_this_build_would_not_install_does_not_count(tmp_path, page):
    result = check(tmp_path, {"numpy": page}, {"numpy": "2.4.6"}, runtime={"numpy"})
    assert result.returncode == 0, result.stderr
    assert row(result, "numpy") == "numpy runtime 2.4.6 2.4.6 2.4.6 current"


def test_an_index_that_cannot_be_reached_only_warns(tmp_path):
    with PackageIndex({}) as index:
        url = index.url  # nothing listens on the port once the index is closed
    result = outdated(tmp_path, url, {"Django": "5.2.2"}, runtime={"Django"})
    assert result.returncode == 75
    assert result.stderr.startswith("WARNING: the index could not be asked about 1 of 1 pins")
    assert "nothing was proven" in result.stderr


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ((SIMPLE_JSON, b'{"files": ['), "malformed JSON"),
        (("text/html", b"<html><body></body></html>"), "answered text/html, not PEP 691 JSON"),
        (None, "HTTP 404"),
    ],
    ids=["malformed-json", "html-only-index", "unknown-project"],
)
def test_an_answer_that_is_not_a_project_page_is_an_error(tmp_path, page, message):
    pages = {"django": page} if page else {}
    result = check(tmp_path, pages, {"Django": "5.2.2"}, runtime={"Django"})
    assert result.returncode == 2
    assert result.stderr.startswith("ERROR: 1 pins could not be compared")
    assert message in result.stderr


def test_a_pin_the_index_does_not_list_is_an_error(tmp_path):
    page = project_page("django", ["5.2.1", "5.2.2"])
    result = check(tmp_path, {"django": page}, {"Django": "5.2.9"}, runtime={"Django"})
    assert result.returncode == 2
    assert "5.2.9 is not on the index" in result.stderr
