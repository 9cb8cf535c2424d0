"""``zsi-rest``: the HTTP form of the package (contract section 5).

The pages are written, as they arrive, into a package folder on local disk
(UTF-8 CSVs and a header with row counts and SHA-256 of what was written), so
the very same validation and apply path handles both forms and nothing large
is held in memory.
"""

import csv
import hashlib
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings

from connectors import outbound
from connectors.registry import (
    CheckResult,
    Connector,
    ConnectorError,
    IncomingPackage,
    SourceState,
    register,
)
from connectors.zsi.errors import PackageProblem, PackageRejected
from connectors.zsi.package import HEADER_KEYS
from connectors.zsi.spec import DOCUMENTS, DOCUMENTS_DIR, REST_NAMES

CREDENTIALS_REJECTED = "credentials rejected"
WORKDIR_PREFIX = "package-"


def rest_folder(code: str) -> Path:
    """Where a cooperative's downloads are assembled: private to the platform's user."""
    return Path(settings.CONNECTOR_ROOT) / code / "rest"


def _private(path: Path, mode: str = "w"):
    """A new file only its owner may read (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    if "b" in mode:
        return open(fd, mode)  # noqa: SIM115 - the caller closes it
    return open(fd, mode, encoding="utf-8", newline="")  # noqa: SIM115


class CredentialsRejected(ConnectorError):
    pass


class _NotFound(Exception):
    pass


class RestPackage(IncomingPackage):
    def finish(self, outcome: str, report: str) -> None:
        shutil.rmtree(self.extra["workdir"], ignore_errors=True)


class Client:
    def __init__(self, base: str, token: str, *, timeout: float, retries: int, backoff: float):
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.opener = outbound.opener()

    def get(self, path: str, *, stream_to=None):
        url = f"{self.base}{path}"
        # Settings may have narrowed since the operator configured the URL.
        outbound.check_url(url, resolve=False)
        request = urllib.request.Request(  # noqa: S310 - checked against the allow list
            url, headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        )
        last_error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                with self.opener.open(request, timeout=self.timeout) as response:
                    if stream_to is not None:
                        while chunk := response.read(1024 * 1024):
                            stream_to.write(chunk)
                        return None
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                if exc.code in (401, 403):
                    raise CredentialsRejected(
                        f"{CREDENTIALS_REJECTED}: the source answered {exc.code} to {url}"
                    ) from exc
                if exc.code == 404:
                    raise _NotFound(url) from exc
                if exc.code >= 500:
                    last_error = f"HTTP {exc.code} from {url}"
                    continue
                raise ConnectorError(f"HTTP {exc.code} from {url}") from exc
            except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
                last_error = f"{url}: {getattr(exc, 'reason', exc)}"
                continue
            except json.JSONDecodeError as exc:
                raise ConnectorError(f"{url} did not answer JSON: {exc}") from exc
        raise ConnectorError(
            f"The source did not answer after {self.retries + 1} attempts ({last_error})."
        )


@register
class ZsiRestConnector(Connector):
    name = "zsi-rest"
    config_schema = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "title": "Base URL"},
            "token": {"type": "string", "title": "Bearer token", "secret": True},
            "timeout": {"type": "number", "title": "Timeout (s)"},
            "retries": {"type": "integer", "title": "Retries on 5xx and timeouts"},
            "backoff": {"type": "number", "title": "First backoff (s)"},
        },
        "required": ["url", "token"],
    }

    @classmethod
    def validate_config(cls, config: dict) -> list[str]:
        problems = super().validate_config(config)
        if isinstance(config.get("url"), str) and config["url"]:
            try:
                outbound.check_url(config["url"])
            except outbound.DestinationRefused as exc:
                problems.append(str(exc))
        return problems

    def client(self, config: dict) -> Client:
        return Client(
            config["url"],
            config.get("token", ""),
            timeout=float(config.get("timeout", 30)),
            retries=int(config.get("retries", 3)),
            backoff=float(config.get("backoff", 1.0)),
        )

    def check(self, config: dict) -> CheckResult:
        try:
            header = self.client(config).get("/v1/naglowek")
        except CredentialsRejected as exc:
            return CheckResult(False, str(exc))
        except (ConnectorError, _NotFound) as exc:
            return CheckResult(False, f"The source did not answer: {exc}")
        number = header.get("numer_paczki") if isinstance(header, dict) else None
        return CheckResult(True, f"The source answers; its current package is {number}.")

    def read(self, config: dict, state: SourceState) -> IncomingPackage | None:
        client = self.client(config)
        try:
            header = client.get("/v1/naglowek")
        except _NotFound as exc:
            raise ConnectorError(f"No header at {exc}") from exc
        if not isinstance(header, dict):
            raise ConnectorError("The header is not a JSON object.")
        values = {k.upper(): str(v) for k, v in header.items()}
        if state.last_number is not None and values.get("NUMER_PACZKI") == str(state.last_number):
            return None  # nothing new since the last applied package
        root = rest_folder(state.cooperative_code)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        root.chmod(0o700)
        workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX, dir=root))  # 0700
        try:
            self._download(client, values, workdir, state)
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return RestPackage(
            path=workdir,
            source=f"{client.base} #{values.get('NUMER_PACZKI')}",
            extra={"workdir": str(workdir)},
        )

    def _download(self, client: Client, values: dict, workdir: Path, state: SourceState) -> None:
        listed = []
        for word, spec in REST_NAMES.items():
            target = workdir / spec.name
            try:
                rows, digest = self._download_file(client, word, spec, target)
            except _NotFound:
                if spec.required:
                    raise PackageRejected(
                        [PackageProblem("the source has no such list", file=f"/v1/{word}")]
                    ) from None
                continue
            listed.append(f"PLIK={spec.name};{rows};{digest}")
            if spec is DOCUMENTS:
                self._download_documents(client, target, workdir, state)
        lines = [
            f"{key}={values[key]}" for key in HEADER_KEYS if key in values and key != "KODOWANIE"
        ]
        lines += [f"{key}={value}" for key, value in values.items() if key not in HEADER_KEYS]
        lines.append("KODOWANIE=UTF-8")
        lines += listed
        with _private(workdir / "NAGLOWEK.TXT", "wb") as out:
            out.write(("\r\n".join(lines) + "\r\n").encode("ascii", "replace"))

    def _download_file(self, client: Client, word: str, spec, target: Path) -> tuple[int, str]:
        keys = [name.lower() for name in spec.header]
        rows = 0
        with _private(target) as out:
            writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
            writer.writerow(spec.header)
            page, pages = 1, None
            while pages is None or page <= pages:
                body = client.get(f"/v1/{word}?strona={page}")
                where = f"/v1/{word}?strona={page}"
                if not isinstance(body, dict) or not isinstance(body.get("wiersze"), list):
                    raise PackageRejected([PackageProblem("not a page object", file=where)])
                if body.get("strona") != page:
                    raise PackageRejected(
                        [
                            PackageProblem(
                                "the page answers another page number",
                                file=where,
                                column="strona",
                                value=str(body.get("strona")),
                            )
                        ]
                    )
                if pages is None:
                    pages = body.get("stron")
                    if not isinstance(pages, int) or pages < 0:
                        raise PackageRejected(
                            [
                                PackageProblem(
                                    "malformed page count",
                                    file=where,
                                    column="stron",
                                    value=str(pages),
                                )
                            ]
                        )
                elif body.get("stron") != pages:
                    raise PackageRejected(
                        [
                            PackageProblem(
                                "row count mismatch: the page count changed while paging",
                                file=where,
                                column="stron",
                                value=str(body.get("stron")),
                            )
                        ]
                    )
                if pages == 0:
                    break
                for number, row in enumerate(body["wiersze"], start=1):
                    if not isinstance(row, dict) or sorted(row) != sorted(keys):
                        raise PackageRejected(
                            [
                                PackageProblem(
                                    f"row {number} must have exactly the keys {', '.join(keys)}",
                                    file=where,
                                    value=json.dumps(row, ensure_ascii=False)[:200],
                                )
                            ]
                        )
                    values = []
                    for key in keys:
                        value = row[key]
                        if value is None:
                            value = ""
                        if not isinstance(value, str):
                            raise PackageRejected(
                                [
                                    PackageProblem(
                                        "values must be JSON strings",
                                        file=where,
                                        line=number,
                                        column=key.upper(),
                                        value=str(value),
                                    )
                                ]
                            )
                        values.append(value)
                    writer.writerow(values)
                    rows += 1
                page += 1
        digest = hashlib.sha256()
        with open(target, "rb") as stream:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
        return rows, digest.hexdigest()

    def _download_documents(self, client: Client, index: Path, workdir: Path, state) -> None:
        folder = workdir / DOCUMENTS_DIR
        folder.mkdir(mode=0o700, exist_ok=True)
        with open(index, encoding="utf-8", newline="") as stream:
            reader = csv.reader(stream, delimiter=";")
            next(reader, None)
            for row in reader:
                if len(row) != len(DOCUMENTS.header):
                    continue  # the apply reports it
                doc_id, _p, _k, _t, _d, name, sha = row
                if "/" in name or "\\" in name or name.startswith(".") or not name:
                    continue  # the apply rejects the name
                stored = state.stored_documents
                if stored and (stored / f"documents/{sha[:2]}/{sha}.pdf").exists():
                    continue  # delivered earlier: the contract lets a package leave it out
                target = folder / name
                if target.exists():
                    continue
                try:
                    # The id comes from the source: quoted whole, it stays one path segment.
                    quoted = urllib.parse.quote(doc_id, safe="")
                    with _private(target, "wb") as out:
                        client.get(f"/v1/dokumenty/{quoted}/plik", stream_to=out)
                except _NotFound:
                    target.unlink(missing_ok=True)  # the apply reports the missing PDF
        if not any(folder.iterdir()):
            folder.rmdir()
