"""A recorder for a backend client's `observe(backend, outcome)` callback."""

from __future__ import annotations

__all__ = ["Outcomes"]


class Outcomes(list[tuple[str, str]]):
    """Every `(backend, outcome)` the client reported, in order."""

    def __call__(self, backend: str, outcome: str) -> None:
        self.append((backend, outcome))
