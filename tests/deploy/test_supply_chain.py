"""The SBOM matches the pins, and bin/audit-deps tells vulnerable, clean and unchecked apart."""

import json
import subprocess
import sys
import tomllib
from importlib.metadata import distribution

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.processes import ROOT

SBOM = ROOT / "deploy" / "sbom.cdx.json"


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().split()
    return {canonicalize_name(name): version for name, version in (s.split("==") for s in lines)}


def runtime_packages() -> set[str]:
    """The dependencies of pyproject.toml and everything they pull in, with their extras."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        todo = [Requirement(r) for r in tomllib.load(f)["project"]["dependencies"]]
    seen: set[tuple[str, frozenset]] = set()
    while todo:
        req = todo.pop()
        name, extras = canonicalize_name(req.name), frozenset(req.extras)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for line in distribution(name).requires or []:
            dep = Requirement(line)
            wanted = {"", *extras}
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in wanted):
                todo.append(dep)
    return {name for name, _ in seen}


def sbom_components() -> dict[str, str]:
    components = json.loads(SBOM.read_text())["components"]
    return {canonicalize_name(c["name"]): c["version"] for c in components}


def test_sbom_lists_exactly_the_pinned_runtime_packages():
    pinned = pins()
    runtime = runtime_packages()
    assert runtime <= pinned.keys(), f"not pinned in constraints.txt: {runtime - pinned.keys()}"
    expected = {name: pinned[name] for name in runtime}
    assert sbom_components() == expected, "deploy/sbom.cdx.json is stale: run bin/sbom"


def test_sbom_is_cyclonedx_with_package_urls():
    # bin/sbom has cyclonedx-py validate the document against the schema when writing it.
    document = json.loads(SBOM.read_text())
    assert document["bomFormat"] == "CycloneDX"
    assert document["specVersion"] == "1.6"
    assert document["metadata"]["component"]["name"] == "ebok"
    for component in document["components"]:
        name = canonicalize_name(component["name"])
        assert component["purl"] == f"pkg:pypi/{name}@{component['version']}"


FAKE_PIP_AUDIT = """
import os, sys
report = os.environ.get("FAKE_REPORT")
if report:
    with open(sys.argv[sys.argv.index("--output") + 1], "w") as f:
        f.write(report)
sys.stderr.write(os.environ.get("FAKE_STDERR", ""))
sys.exit(int(os.environ["FAKE_EXIT"]))
"""


def audit(tmp_path, *, exit_code: int, report: dict | None = None, stderr: str = ""):
    """bin/audit_deps.py with a stand-in for pip-audit that answers as given."""
    fake = tmp_path / "fake_pip_audit.py"
    fake.write_text(FAKE_PIP_AUDIT)
    env = {
        "PIP_AUDIT": f"{sys.executable} {fake}",
        "FAKE_EXIT": str(exit_code),
        "FAKE_REPORT": json.dumps(report) if report else "",
        "FAKE_STDERR": stderr,
    }
    return subprocess.run(
        [sys.executable, "bin/audit_deps.py"], cwd=ROOT, env=env, capture_output=True, text=True
    )


def dependency(name, version, **extra):
    return {"name": name, "version": version, "vulns": [], **extra}


def test_audit_passes_when_no_pinned_package_has_a_known_vulnerability(tmp_path):
    report = {"dependencies": [dependency("django", "5.2.19"), dependency("redis", "8.1.0")]}
    result = audit(tmp_path, exit_code=0, report=report)
    assert result.returncode == 0
    assert result.stdout.strip() == "No known vulnerabilities in 2 pinned packages."


def test_audit_fails_loudly_on_a_known_vulnerability(tmp_path):
    vuln = {"id": "PYSEC-2024-1", "aliases": ["CVE-2024-0001"], "fix_versions": ["5.2.20"]}
    report = {
        "dependencies": [
            dependency("django", "5.2.19", vulns=[vuln]),
            {"name": "somepkg", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    result = audit(tmp_path, exit_code=1, report=report)
    assert result.returncode == 1
    assert (
        "VULNERABLE: django 5.2.19: PYSEC-2024-1 (CVE-2024-0001); fixed in: 5.2.20" in result.stderr
    )


@pytest.mark.parametrize(
    ("report", "stderr"),
    [
        ({"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI"}]}, ""),
        (None, "requests.exceptions.ConnectionError: Max retries exceeded with url: /v1/query"),
    ],
    ids=["service-knows-nothing", "service-unreachable"],
)
def test_audit_only_warns_when_the_service_could_not_tell(tmp_path, report, stderr):
    result = audit(tmp_path, exit_code=1 if report is None else 0, report=report, stderr=stderr)
    assert result.returncode == 75
    assert result.stderr.startswith("WARNING:")


def test_audit_fails_on_any_other_error(tmp_path):
    result = audit(tmp_path, exit_code=2, stderr="pip-audit: error: invalid requirements file")
    assert result.returncode == 2
    assert "invalid requirements file" in result.stderr
