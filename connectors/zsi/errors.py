"""Problems found in a package, each naming where it is."""

from dataclasses import asdict, dataclass

from django.utils.translation import gettext_lazy as _

# Enough to fix a package; more only floods the report.
MAX_ERRORS = 200


@dataclass
class PackageProblem:
    message: str
    file: str = ""
    line: int | None = None
    column: str = ""
    value: str | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["message"] = str(self.message)
        return data

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line is not None:
            where.append(str(_("line %(n)s") % {"n": self.line}))
        if self.column:
            where.append(str(_("column %(c)s") % {"c": self.column}))
        if self.value is not None:
            value = self.value if len(self.value) <= 80 else self.value[:77] + "..."
            where.append(str(_("value %(v)r") % {"v": value}))
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else str(self.message)


class PackageRejected(Exception):
    """The package breaks the contract; nothing of it was applied."""

    def __init__(self, problems: list[PackageProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


class ProblemList(list):
    """Collects problems up to MAX_ERRORS."""

    def add(self, message, **where) -> None:
        if len(self) < MAX_ERRORS:
            self.append(PackageProblem(message, **where))

    @property
    def full(self) -> bool:
        return len(self) >= MAX_ERRORS

    def raise_if_any(self) -> None:
        if self:
            raise PackageRejected(list(self))
