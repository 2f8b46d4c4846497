"""What a key may do: a module of its own, with nothing to import, so that the command line
names the scopes without loading the models (see :mod:`app.cli`)."""

from enum import StrEnum


class KeyScope(StrEnum):
    """What a key may do; each scope implies the ones before it."""

    read = "read"
    write = "write"
    admin = "admin"

    @property
    def rank(self) -> int:
        return list(KeyScope).index(self)

    def allows(self, needed: "KeyScope") -> bool:
        return self.rank >= needed.rank
