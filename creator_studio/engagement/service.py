from creator_studio.providers.social.base import SocialProvider
from creator_studio.store.db import Database


class EngagementService:
    def __init__(self, db: Database, social: SocialProvider) -> None:
        self._db = db
        self._social = social
