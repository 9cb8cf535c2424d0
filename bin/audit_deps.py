"""Checks the pinned packages against known vulnerabilities with pip-audit.

Run through bin/audit-deps. Exit codes: 0 none known; 1 a pinned package has a known
vulnerability; 75 the vulnerability service could not be asked, or could not tell about
some packages, so they were not checked (CI warns); 2 any other error.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

CLEAN, VULNERABLE, ERROR, UNCHECKED = 0, 1, 2, 75
# What pip-audit prints when the service cannot be reached.
NETWORK_ERRORS = re.compile(
    r"ConnectionError|ConnectTimeout|ReadTimeout|ProxyError|NameResolutionError|"
    r"Max retries exceeded|Temporary failure in name resolution|Network is unreachable"
)


def verdict(returncode: int, report: dict | None, stderr: str) -> tuple[int, list[str]]:
    """The exit code and the lines to print for one pip-audit run."""
    if report is None:
        if NETWORK_ERRORS.search(stderr):
            reason = NETWORK_ERRORS.search(stderr)[0]
            return UNCHECKED, [
                f"WARNING: the vulnerability service could not be reached ({reason})."
            ]
        return ERROR, [f"ERROR: pip-audit failed (exit {returncode}):", stderr.strip()]
    vulnerable = [dep for dep in report["dependencies"] if dep.get("vulns")]
    unchecked = [dep for dep in report["dependencies"] if dep.get("skip_reason")]
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            lines.append(
                f"VULNERABLE: {dep['name']} {dep['version']}: {vuln['id']}"
                + (f" ({aliases})" if aliases else "")
                + f"; fixed in: {fixes}"
            )
    if unchecked:
        lines.append(
            f"WARNING: {len(unchecked)} of {len(report['dependencies'])} pinned packages could "
            f"not be checked, e.g. {unchecked[0]['skip_reason']}"
        )
    if vulnerable:
        return VULNERABLE, lines
    if unchecked:
        return UNCHECKED, lines
    if returncode != 0:
        return ERROR, [f"ERROR: pip-audit failed (exit {returncode}):", stderr.strip()]
    return CLEAN, [f"No known vulnerabilities in {len(report['dependencies'])} pinned packages."]


def run_pip_audit(requirements: Path, service: str) -> tuple[int, dict | None, str]:
    command = shlex.split(os.environ.get("PIP_AUDIT", f"{sys.executable} -m pip_audit"))
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "report.json"
        result = subprocess.run(
            [*command, "--requirement", str(requirements), "--no-deps", "--disable-pip",
             "--vulnerability-service", service, "--format", "json",
             "--output", str(report_path), "--progress-spinner", "off", "--timeout", "20"],
            capture_output=True, text=True,
        )  # fmt: skip
        report = json.loads(report_path.read_text()) if report_path.exists() else None
    return result.returncode, report, result.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, default=Path("constraints.txt"))
    parser.add_argument(
        "--service", choices=["pypi", "osv"], default=os.environ.get("AUDIT_SERVICE", "pypi")
    )
    args = parser.parse_args()
    code, lines = verdict(*run_pip_audit(args.requirements, args.service))
    print("\n".join(lines), file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
