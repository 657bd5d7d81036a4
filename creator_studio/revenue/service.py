from creator_studio.content.service import ContentService
from creator_studio.providers.email.sandbox import SandboxEmailProvider
from creator_studio.providers.payments.sandbox import SandboxPaymentsProvider
from creator_studio.store.db import Database


class RevenueService:
    def __init__(self, db: Database, payments: SandboxPaymentsProvider, email: SandboxEmailProvider,
                 content: ContentService) -> None:
        self._db = db
        self._payments = payments
        self._email = email
        self._content = content
