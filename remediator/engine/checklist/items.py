"""One line of the go-live checklist: what is configured or missing, and the one fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    MISSING = "missing"
    WARNING = "warning"


@dataclass(frozen=True)
class Item:
    """``fix`` is the one thing to do (a command, or what to set); ``fix_url`` the page
    where it is done, when there is one. ``required``: a missing required item fails
    ``manage.py check_setup``. Text only: never a secret's value, only "set"/"not set"."""

    key: str
    area: str
    title: str
    status: Status
    detail: str
    fix: str = ""
    fix_url: str = ""
    required: bool = False

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def as_dict(self) -> dict:
        return {**asdict(self), "status": str(self.status)}


@dataclass(frozen=True)
class Checklist:
    items: list[Item]

    @property
    def to_do(self) -> list[Item]:
        """Items not green: missing first, then warnings."""
        return sorted((i for i in self.items if not i.ok), key=lambda i: i.status != "missing")

    @property
    def required_missing(self) -> list[Item]:
        return [i for i in self.items if i.required and i.status == Status.MISSING]

    def areas(self) -> list[tuple[str, list[Item]]]:
        """The items grouped by area, in the order the areas first appear."""
        grouped: dict[str, list[Item]] = {}
        for item in self.items:
            grouped.setdefault(item.area, []).append(item)
        return list(grouped.items())
