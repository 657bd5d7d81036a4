"""SQL storage: the declarative base, engines, sessions and Alembic migrations."""
