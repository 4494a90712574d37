"""Page numbers for long lists."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    number: int
    total: int
    size: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def current(self) -> int:
        return min(max(1, self.number), self.pages)

    @property
    def offset(self) -> int:
        return (self.current - 1) * self.size

    @property
    def has_previous(self) -> bool:
        return self.current > 1

    @property
    def has_next(self) -> bool:
        return self.current < self.pages
