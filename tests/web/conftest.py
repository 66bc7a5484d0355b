from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from app.config import Settings
from app.main import create_app


@pytest.fixture
async def client(db: str) -> AsyncIterator[AsyncTestClient]:
    # No pool: the test client runs the app on its own event loop, and the tests' own queries
    # (factories) run on pytest's; pooled connections cannot cross loops.
    settings = Settings(database_url=db, base_url="http://testserver.local", secret_key="test-secret",
                        db_pool_size=0, mail_sender_in_process=False)
    async with AsyncTestClient(create_app(settings), base_url="http://testserver.local") as client:
        yield client
