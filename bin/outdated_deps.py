"""Reports the pins of constraints.txt that newer releases on the package index left behind.

Run through bin/outdated-deps. Asks the index (its PEP 691 JSON form) about every pin and
compares the pin with the newest final, not yanked release of its own major.minor series
and with the newest overall. Runtime pins are the packages of the SBOM (bin/sbom): what
the image installs. Exit codes: 0 every runtime pin is the newest patch of its series and
none is yanked; 1 a runtime pin lags a patch release of its series or is yanked; 75 the
index could not be asked about some pins, so nothing was proven (CI warns); 2 any other
error (a pin the index does not know, an answer that is not PEP 691 JSON).
"""

import argparse
import http.client
import json
import os
import platform
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

CURRENT, BEHIND, ERROR, UNCHECKED = 0, 1, 2, 75
DEFAULT_INDEX = "https://pypi.org/simple/"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


class Unreachable(Exception):
    """The index could not be asked (network, timeout, the index itself failing)."""


class BadAnswer(Exception):
    """The index answered, but not with what a pin needs."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    runtime: bool


@dataclass(frozen=True)
class Finding:
    pin: Pin
    series_newest: Version | None = None
    newest: Version | None = None
    yanked: str | None = None  # the index's reason, or "yanked"
    unreachable: str | None = None
    error: str | None = None

    @property
    def behind(self) -> bool:
        return self.series_newest is not None and self.series_newest > self.pin.version

    @property
    def failing(self) -> bool:
        return self.pin.runtime and (self.behind or self.yanked is not None)

    @property
    def status(self) -> str:
        if self.unreachable:
            return f"not asked: {self.unreachable}"
        if self.error:
            return f"error: {self.error}"
        words = []
        if self.yanked:
            words.append(f"YANKED ({self.yanked})")
        if self.behind:
            words.append("PATCH BEHIND")
        if self.newest is not None and self.newest > (self.series_newest or self.pin.version):
            major = self.newest.major > self.pin.version.major
            words.append("newer major" if major else "newer minor")
        return ", ".join(words) or "current"


def series(version: Version) -> tuple[int, int, int]:
    major, minor = (*version.release, 0)[:2]
    return version.epoch, major, minor


def read_pins(constraints: Path, sbom: Path) -> list[Pin]:
    """Every pin of the constraints file; runtime when the SBOM lists the package."""
    runtime = {canonicalize_name(c["name"]) for c in json.loads(sbom.read_text())["components"]}
    pins = []
    for line in constraints.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            raise ValueError(f"{constraints}: {line!r} is not an exact pin (name==version)")
        name = canonicalize_name(requirement.name)
        pins.append(Pin(name, Version(specifiers[0].version), name in runtime))
    return pins


def fetch_project(index_url: str, name: str, timeout: float) -> dict:
    """The index's PEP 691 JSON page of one project."""
    url = f"{index_url.rstrip('/')}/{name}/"
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_JSON})  # noqa: S310 - http(s) index
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            content_type = response.headers.get_content_type()
            body = response.read()
    except urllib.error.HTTPError as error:
        if error.code == 429 or error.code >= 500:
            raise Unreachable(f"HTTP {error.code} from {url}") from error
        raise BadAnswer(f"HTTP {error.code} from {url}") from error
    except (OSError, http.client.HTTPException) as error:
        raise Unreachable(f"{url}: {getattr(error, 'reason', error)}") from error
    if content_type != SIMPLE_JSON:
        raise BadAnswer(f"{url} answered {content_type}, not PEP 691 JSON")
    try:
        project = json.loads(body)
    except ValueError as error:
        raise BadAnswer(f"{url} answered malformed JSON ({error})") from error
    if not isinstance(project, dict) or not isinstance(project.get("files"), list):
        raise BadAnswer(f"{url} answered JSON without a list of files")
    return project


def file_version(filename: str) -> Version | None:
    """The version a distribution file carries; None for legacy formats (eggs, installers)."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def admits(requires_python: str | None, python: Version) -> bool:
    try:
        return not requires_python or python in SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True  # an unreadable marker does not hide a release


def assess(pin: Pin, project: dict, python: Version) -> Finding:
    """Compares one pin with the releases of the project's index page."""
    installable: set[Version] = set()  # final releases with a file for our Python
    yanked: dict[Version, str] = {}  # version -> reason, while every file of it is yanked
    listed: set[Version] = set()
    for entry in project["files"]:
        version = file_version(entry["filename"])
        if version is None:
            continue
        reason = entry.get("yanked") or None
        if reason:
            if version not in listed or version in yanked:
                yanked[version] = reason if isinstance(reason, str) else "yanked"
        else:
            yanked.pop(version, None)
            if not version.is_prerelease and admits(entry.get("requires-python"), python):
                installable.add(version)
        listed.add(version)
    if pin.version not in listed:
        return Finding(pin, error=f"{pin.version} is not on the index")
    in_series = [v for v in installable if series(v) == series(pin.version)]
    return Finding(
        pin,
        series_newest=max(in_series, default=None),
        newest=max(installable, default=None),
        yanked=yanked.get(pin.version),
    )


def check(pin: Pin, index_url: str, timeout: float, python: Version) -> Finding:
    try:
        return assess(pin, fetch_project(index_url, pin.name, timeout), python)
    except Unreachable as error:
        return Finding(pin, unreachable=str(error))
    except (BadAnswer, KeyError, TypeError) as error:
        return Finding(pin, error=str(error) if isinstance(error, BadAnswer) else repr(error))


def report(findings: list[Finding]) -> list[str]:
    """The table: package, runtime or test, pinned, newest of its series, newest overall."""
    rows = [("package", "use", "pinned", "series newest", "newest", "status")]
    for f in sorted(findings, key=lambda f: (not f.failing, f.status == "current", f.pin.name)):
        rows.append((
            f.pin.name,
            "runtime" if f.pin.runtime else "test",
            str(f.pin.version),
            str(f.series_newest or "-"),
            str(f.newest or "-"),
            f.status,
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return ["  ".join([*(row[i].ljust(w) for i, w in enumerate(widths)), row[5]]) for row in rows]


def verdict(findings: list[Finding]) -> tuple[int, str]:
    """The exit code and the closing line."""
    failing = [f for f in findings if f.failing]
    errors = [f for f in findings if f.error]
    unreachable = [f for f in findings if f.unreachable]
    if failing:
        names = ", ".join(
            f"{f.pin.name} {f.pin.version} " + (f"-> {f.series_newest}" if f.behind else "(yanked)")
            for f in failing
        )
        return BEHIND, (
            f"FAILED: runtime pins lag a patch release of their series or are yanked: {names}. "
            "Raise them in constraints.txt and run bin/sbom."
        )
    if errors:
        return ERROR, f"ERROR: {len(errors)} pins could not be compared, e.g. {errors[0].error}"
    if unreachable:
        return UNCHECKED, (
            f"WARNING: the index could not be asked about {len(unreachable)} of {len(findings)} "
            f"pins ({unreachable[0].unreachable}); nothing was proven."
        )
    reported = sum(f.status != "current" for f in findings)
    return CURRENT, (
        f"Every runtime pin is the newest patch of its series and none is yanked "
        f"({len(findings)} pins; {reported} newer releases or test-only lags reported above)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--constraints", type=Path, default=Path("constraints.txt"))
    parser.add_argument("--sbom", type=Path, default=Path("deploy/sbom.cdx.json"))
    parser.add_argument("--index-url", default=os.environ.get("OUTDATED_INDEX_URL", DEFAULT_INDEX))
    parser.add_argument("--timeout", type=float, default=20, help="seconds per request")
    parser.add_argument(
        "--python-version", type=Version, default=Version(platform.python_version()),
        help="releases must admit this Python (Requires-Python); default: this interpreter",
    )  # fmt: skip
    args = parser.parse_args()
    try:
        pins = read_pins(args.constraints, args.sbom)
    except (OSError, ValueError, KeyError, InvalidRequirement, InvalidVersion) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return ERROR
    with ThreadPoolExecutor(max_workers=8) as pool:
        findings = list(
            pool.map(lambda p: check(p, args.index_url, args.timeout, args.python_version), pins)
        )
    code, closing = verdict(findings)
    print("\n".join(report(findings)))
    print(closing, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
