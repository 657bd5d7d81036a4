from creator_studio.automation.service import AutomationService
from creator_studio.content.service import ContentService
from creator_studio.engagement.service import EngagementService
from creator_studio.revenue.service import RevenueService
from creator_studio.store.db import Database


class CommandCenterService:
    def __init__(self, db: Database, *, content: ContentService, engagement: EngagementService,
                 revenue: RevenueService, automation: AutomationService) -> None:
        self._db = db
        self._content = content
        self._engagement = engagement
        self._revenue = revenue
        self._automation = automation
