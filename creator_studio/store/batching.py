"""Sessions that can be batched: a provider's writes share one transaction while `batch()` runs (seeding a
world: all or nothing, and much faster), and each get their own transaction otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.orm import Session

from creator_studio.store.db import Database


class BatchableSessions:
    def __init__(self, db: Database, name: str) -> None:
        self._db = db
        self._current: ContextVar[Session | None] = ContextVar(f"{name}_batch_{id(self)}", default=None)

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self._db.transaction() as session:
            # The identity map holds rows weakly: keep the batch's new rows alive so lookups of them by id
            # are answered from memory instead of the database.
            session.info["pinned"] = []
            token = self._current.set(session)
            try:
                yield
            finally:
                self._current.reset(token)

    @contextmanager
    def session(self) -> Iterator[Session]:
        current = self._current.get()
        if current is not None:
            yield current
            return
        with self._db.transaction() as session:
            yield session
