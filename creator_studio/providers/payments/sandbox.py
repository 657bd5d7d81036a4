from creator_studio.store.db import Database


class SandboxPaymentsProvider:
    def __init__(self, db: Database) -> None:
        self._db = db
