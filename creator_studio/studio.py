"""The studio: one object that holds the settings, the database, the providers and every module's service.

Like a typed `Deps` in pydantic-ai: tools receive it through `ToolContext.studio`; tests build one on a
temporary directory. Which provider implementation is used is configuration, decided here only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from creator_studio.automation.service import AutomationService
from creator_studio.command_center.service import CommandCenterService
from creator_studio.content.service import ContentService
from creator_studio.engagement.service import EngagementService
from creator_studio.providers.email.sandbox import SandboxEmailProvider
from creator_studio.providers.llm.provider import ModelProvider, build_model_provider
from creator_studio.providers.llm.writer import Writer
from creator_studio.providers.payments.sandbox import SandboxPaymentsProvider
from creator_studio.providers.social.sandbox import SandboxSocialProvider
from creator_studio.revenue.service import RevenueService
from creator_studio.runs.approvals import ApprovalStore
from creator_studio.runs.ledger import Ledger
from creator_studio.runs.records import RunStore
from creator_studio.settings import Settings
from creator_studio.store import migrate
from creator_studio.store.db import Database, utcnow
from creator_studio.store.models import Base
from creator_studio.workspaces.service import WorkspaceService


@dataclass
class Studio:
    settings: Settings
    db: Database
    social: SandboxSocialProvider
    email: SandboxEmailProvider
    payments: SandboxPaymentsProvider
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def open(cls, settings: Settings, *, migrate_schema: bool = True) -> Studio:
        settings.home.mkdir(parents=True, exist_ok=True)
        db = Database(settings.sqlalchemy_url())
        if migrate_schema:
            migrate.upgrade(settings.sqlalchemy_url())
        else:  # tests: the same tables, created directly (a test checks migrations match the models)
            Base.metadata.create_all(db.engine)
        return cls(settings=settings, db=db, social=SandboxSocialProvider(db), email=SandboxEmailProvider(db),
                   payments=SandboxPaymentsProvider(db))

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def workspaces(self) -> WorkspaceService:
        return WorkspaceService(self.db)

    @cached_property
    def runs(self) -> RunStore:
        return RunStore(self.db)

    @cached_property
    def approvals(self) -> ApprovalStore:
        return ApprovalStore(self.db)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.db)

    @cached_property
    def models(self) -> ModelProvider:
        return build_model_provider(self.settings)

    @property
    def writer(self) -> Writer:
        return self.models.writer

    @cached_property
    def content(self) -> ContentService:
        return ContentService(self.db, self.social, self.settings.home / "media")

    @cached_property
    def engagement(self) -> EngagementService:
        return EngagementService(self.db, self.social)

    @cached_property
    def revenue(self) -> RevenueService:
        return RevenueService(self.db, self.payments, self.email, self.content)

    @cached_property
    def automation(self) -> AutomationService:
        return AutomationService(self.db)

    @cached_property
    def command_center(self) -> CommandCenterService:
        return CommandCenterService(self.db, content=self.content, engagement=self.engagement,
                                    revenue=self.revenue, automation=self.automation)

    def close(self) -> None:
        self.db.dispose()
