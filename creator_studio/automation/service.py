from creator_studio.store.db import Database


class AutomationService:
    def __init__(self, db: Database) -> None:
        self._db = db
