"""The shared real-server fixtures (tests/servers.py) start servers that answer."""

from __future__ import annotations

import pytest
import redis
import sqlalchemy as sa

pytestmark = pytest.mark.integration


def test_redis_and_postgres_fixtures_serve_on_loopback(redis_server: str, postgres_server: str) -> None:
    client = redis.Redis.from_url(redis_server)
    assert client.ping() and client.config_get("save")["save"] == ""
    client.close()
    engine = sa.create_engine(postgres_server)
    with engine.connect() as connection:
        assert connection.execute(sa.text("select current_database()")).scalar() == "studio"
    engine.dispose()
