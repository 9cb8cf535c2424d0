"""Builders of ZSI packages for tests: generate a valid one, then break it on purpose.

Breaking helpers keep NAGLOWEK.TXT consistent (row counts and SHA-256 are
recomputed) unless asked not to, so each test breaks exactly one rule.
"""

import hashlib
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

from connectors.zsi.generator import generate_delta, generate_full


def full_package(out: Path, *, premises: int = 6, years: int = 1, seed: int = 7, **kwargs) -> Path:
    return generate_full(out, premises=premises, years=years, seed=seed, **kwargs)


def delta_package(previous: Path, out: Path, **kwargs) -> Path:
    return generate_delta(previous, out, **kwargs)


def copy_package(source: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def header_values(folder: Path) -> list[str]:
    return (folder / "NAGLOWEK.TXT").read_text("ascii").splitlines()


def codec_of(folder: Path) -> str:
    for line in header_values(folder):
        if line.startswith("KODOWANIE="):
            return "cp1250" if line.endswith("CP1250") else "utf-8"
    return "cp1250"


def relist(folder: Path, name: str) -> None:
    """Recompute the PLIK line of ``name`` from the file as it now is."""
    data = (folder / name).read_bytes()
    rows = data.count(b"\n") - 1 if data.endswith(b"\n") else data.count(b"\n")
    sha = hashlib.sha256(data).hexdigest()
    lines = header_values(folder)
    lines = [
        f"PLIK={name};{rows};{sha}" if line.startswith(f"PLIK={name};") else line for line in lines
    ]
    if not any(line.startswith(f"PLIK={name};") for line in lines):
        lines.append(f"PLIK={name};{rows};{sha}")
    (folder / "NAGLOWEK.TXT").write_text("\r\n".join(lines) + "\r\n", "ascii")


def edit_lines(
    folder: Path, name: str, change: Callable[[list[str]], list[str]], *, relisted: bool = True
) -> None:
    """Rewrite ``name`` line by line (decoded text, without line ends)."""
    codec = codec_of(folder)
    text = (folder / name).read_bytes().decode(codec)
    lines = text.split("\r\n")
    if lines[-1] == "":
        lines.pop()
    lines = change(lines)
    (folder / name).write_bytes(("\r\n".join(lines) + "\r\n").encode(codec))
    if relisted:
        relist(folder, name)


def edit_cell(folder: Path, name: str, line: int, column: str, value: str) -> None:
    """Set one cell; ``line`` counts from 1 (the column names)."""

    def change(lines):
        columns = lines[0].split(";")
        cells = lines[line - 1].split(";")
        cells[columns.index(column)] = value
        lines[line - 1] = ";".join(cells)
        return lines

    edit_lines(folder, name, change)


def cell(folder: Path, name: str, line: int, column: str) -> str:
    codec = codec_of(folder)
    lines = (folder / name).read_bytes().decode(codec).split("\r\n")
    return lines[line - 1].split(";")[lines[0].split(";").index(column)]


def set_header(folder: Path, key: str, value: str | None) -> None:
    lines = [line for line in header_values(folder) if not line.startswith(f"{key}=")]
    if value is not None:
        lines.insert(0, f"{key}={value}")
    (folder / "NAGLOWEK.TXT").write_text("\r\n".join(lines) + "\r\n", "ascii")


def zip_folder(folder: Path, target: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return target
