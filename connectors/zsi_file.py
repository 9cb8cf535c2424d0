"""``zsi-file``: packages dropped into the cooperative's inbox folder.

Oldest first (modification time, then name). Applied and duplicate packages
move to the archive; rejected ones to the quarantine with a readable
``<name>.errors.txt`` beside them. Uploaders should write under a temporary
name (leading dot or ``.part``) and rename when complete: such names are skipped.
"""

import os
import shutil
from pathlib import Path

from django.conf import settings

from connectors.registry import (
    CheckResult,
    Connector,
    IncomingPackage,
    SourceState,
    register,
)

SKIPPED_SUFFIXES = (".part", ".tmp", ".errors.txt")


def default_folder(code: str, kind: str) -> Path:
    return Path(settings.CONNECTOR_ROOT) / code / kind


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    n = 1
    while True:
        candidate = target.with_name(f"{target.name}.{n}")
        if not candidate.exists():
            return candidate
        n += 1


class FilePackage(IncomingPackage):
    def finish(self, outcome: str, report: str) -> None:
        folder = Path(self.extra["quarantine" if outcome == "rejected" else "archive"])
        if outcome == "failed":
            return  # stays in the inbox: the next run tries again
        folder.mkdir(parents=True, exist_ok=True)
        target = _unique(folder / self.path.name)
        shutil.move(str(self.path), str(target))
        if outcome == "rejected":
            (folder / f"{target.name}.errors.txt").write_text(report, encoding="utf-8")


@register
class ZsiFileConnector(Connector):
    name = "zsi-file"
    config_schema = {
        "type": "object",
        "properties": {
            "inbox": {"type": "string", "title": "Inbox folder"},
            "archive": {"type": "string", "title": "Archive folder"},
            "quarantine": {"type": "string", "title": "Quarantine folder"},
        },
        "required": ["inbox"],
    }

    @staticmethod
    def folders(config: dict, code: str | None = None) -> dict[str, Path]:
        inbox = Path(config["inbox"])
        return {
            "inbox": inbox,
            "archive": Path(config.get("archive") or inbox.parent / "archive"),
            "quarantine": Path(config.get("quarantine") or inbox.parent / "quarantine"),
        }

    def check(self, config: dict) -> CheckResult:
        folders = self.folders(config)
        inbox = folders["inbox"]
        if not inbox.is_dir():
            return CheckResult(False, f"The inbox folder {inbox} does not exist.")
        if not os.access(inbox, os.R_OK | os.W_OK | os.X_OK):
            return CheckResult(False, f"The inbox folder {inbox} is not readable and writable.")
        for kind in ("archive", "quarantine"):
            try:
                folders[kind].mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return CheckResult(False, f"Cannot create the {kind} folder: {exc}")
        waiting = len(self._candidates(inbox))
        return CheckResult(True, f"The inbox {inbox} answers; {waiting} package(s) waiting.")

    @staticmethod
    def _candidates(inbox: Path) -> list[Path]:
        found = []
        for entry in inbox.iterdir():
            name = entry.name
            if name.startswith(".") or name.endswith(SKIPPED_SUFFIXES):
                continue
            if entry.is_dir() or (entry.is_file() and name.lower().endswith(".zip")):
                found.append(entry)
        return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))

    def read(self, config: dict, state: SourceState) -> IncomingPackage | None:
        folders = self.folders(config)
        if not folders["inbox"].is_dir():
            from connectors.registry import ConnectorError

            raise ConnectorError(f"The inbox folder {folders['inbox']} does not exist.")
        candidates = self._candidates(folders["inbox"])
        if not candidates:
            return None
        path = candidates[0]
        return FilePackage(
            path=path,
            source=str(path),
            extra={k: str(v) for k, v in folders.items()},
        )
