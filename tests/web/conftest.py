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


ORGANISER_PASSWORD = "correct horse battery staple"


@pytest.fixture
async def organiser(db: str, now):
    from app.organisers.services import create_organiser

    return await create_organiser(email="jo.barclay@essex.gov.uk", name="Jo Barclay",
                                  password=ORGANISER_PASSWORD, now=now)


@pytest.fixture
async def signed_in(client: AsyncTestClient, organiser, now) -> AsyncTestClient:
    """The test client, signed in as an organiser (with a CSRF cookie for forms)."""
    from app.organisers.auth import SESSION_COOKIE
    from app.organisers.services import sign_in

    token = await sign_in(email=organiser.email, password=ORGANISER_PASSWORD, now=now)
    client.cookies.set(SESSION_COOKIE, token)
    await client.get("/organisers/sign-in")  # sets the CSRF cookie
    return client


def csrf_from(client: AsyncTestClient) -> str:
    return client.cookies.get("csrftoken")
