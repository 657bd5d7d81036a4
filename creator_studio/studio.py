"""The studio: one object that holds the settings, the database, the providers and every module's service.

Like a typed `Deps` in pydantic-ai: tools receive it through `ToolContext.studio`; tests build one on a
temporary directory. Which provider implementation is used is configuration, decided here only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from creator_studio.analytics.service import AnalyticsService
from creator_studio.automation.service import AutomationService
from creator_studio.command_center.service import CommandCenterService
from creator_studio.connections.crypto import cipher_for
from creator_studio.connections.service import ConnectionService
from creator_studio.content.media import MediaService
from creator_studio.content.service import ContentService
from creator_studio.engagement.service import EngagementService
from creator_studio.events.service import EventService
from creator_studio.memory.service import MemoryService
from creator_studio.providers.email.base import EmailProvider
from creator_studio.providers.email.factory import build_email_provider
from creator_studio.providers.email.sandbox import SandboxEmailProvider
from creator_studio.providers.llm.provider import ModelProvider, build_model_provider
from creator_studio.providers.llm.writer import Writer
from creator_studio.providers.media.build import build_media_service
from creator_studio.providers.payments.base import PaymentsProvider
from creator_studio.providers.payments.factory import build_payments_provider
from creator_studio.providers.payments.sandbox import SandboxPaymentsProvider
from creator_studio.providers.social.base import SocialProvider
from creator_studio.providers.social.factory import build_social_provider, connection_service
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
    def connections(self) -> ConnectionService:
        return connection_service(self.settings, self.db)

    @cached_property
    def platforms(self) -> SocialProvider:
        """What the services publish through: `social` (the sandbox world) unless STUDIO_PROVIDERS=real."""
        return build_social_provider(self.settings, self.db, sandbox=self.social, connections=self.connections)

    @cached_property
    def email_provider(self) -> EmailProvider:
        """What the services email through: `email` (the sandbox world) unless STUDIO_PROVIDERS=real + SMTP."""
        return build_email_provider(self.settings, self.db, sandbox=self.email)

    @cached_property
    def payments_provider(self) -> PaymentsProvider:
        """What the services charge through: `payments` (the sandbox world) unless STUDIO_PROVIDERS=real + Stripe."""
        return build_payments_provider(self.settings, sandbox=self.payments)

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
        return ContentService(self.db, self.platforms, memory=self.memory)

    @cached_property
    def memory(self) -> MemoryService:
        return MemoryService(self.settings, self.platforms)

    @cached_property
    def media(self) -> MediaService:
        return build_media_service(self.db, self.settings)

    @cached_property
    def engagement(self) -> EngagementService:
        return EngagementService(self.db, self.platforms)

    @cached_property
    def revenue(self) -> RevenueService:
        service = RevenueService(self.db, self.payments_provider, self.email_provider, self.content,
                                 analytics=self.analytics)
        # Revenue acts on an A/B test's announced winner (analytics publishes it as content.optimized).
        self.events.subscribe("revenue", service.on_experiment_concluded, types=["content.optimized"])
        return service

    @cached_property
    def analytics(self) -> AnalyticsService:
        service = AnalyticsService(self.db, clock=self.now)
        service.connect(self.events)  # the metrics store and payment ledger are fed by events
        return service

    @cached_property
    def automation(self) -> AutomationService:
        return AutomationService(self.db)

    @cached_property
    def events(self) -> EventService:
        service = EventService(self.db, clock=self.now, redis_url=self.settings.redis_url,
                               stream=self.settings.events_stream)
        service.webhooks.use_cipher(lambda: cipher_for(self.settings))  # webhook secrets: the tokens' key
        return service

    @cached_property
    def command_center(self) -> CommandCenterService:
        return CommandCenterService(self.db, content=self.content, engagement=self.engagement,
                                    revenue=self.revenue, automation=self.automation, analytics=self.analytics)

    def close(self) -> None:
        if "memory" in self.__dict__:  # only if it was used: it holds a Chroma client
            self.memory.close()
        if "events" in self.__dict__:  # only if it was used: it may hold Redis and HTTP connections
            self.events.close()
        self.db.dispose()
