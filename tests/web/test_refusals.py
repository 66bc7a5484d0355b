"""Every domain refusal is mapped once for pages, as for the API: a not-found of any kind is the
404 page (or the API's 404 problem), and a refusal no handler turned into its own page says its
own words with its status, never a 500."""

from litestar import get

from app.config import Config
from app.errors import DomainError, NotFound
from app.main import create_app
from tests import support


class NotYet(DomainError):
    code = "not_yet"
    status = 409
    message = "Places for this session open on Monday 6 January"


class NoSuchThing(NotFound):
    message = "No such thing"


@get("/try/refusal", sync_to_thread=False)
def refusal() -> str:
    raise NotYet()


@get("/try/missing", sync_to_thread=False)
def missing() -> str:
    raise NoSuchThing()


@get("/api/try/refusal", sync_to_thread=False)
def api_refusal() -> str:
    raise NotYet()


async def test_a_refusal_no_handler_words_is_a_page_in_its_own_words_and_a_not_found_a_404(db):
    app = create_app(Config(database_url=db, base_url="http://testserver.local", secret_key="s", db_pool_size=0,
                            mail_sender_in_process=False, password_profile="cheapest"))
    for handler in (refusal, missing, api_refusal):
        app.register(handler)
    async with support.app_client(app) as client:
        page = await client.get("/try/refusal")
        assert page.status_code == 409 and "Places for this session open on Monday 6 January" in page.text
        assert "Nothing was saved." in page.text and "<!DOCTYPE html>" in page.text
        gone = await client.get("/try/missing")
        assert gone.status_code == 404 and "Page not found" in gone.text
        api = await client.get("/api/try/refusal")
        assert api.status_code == 409 and api.json()["code"] == "not_yet"


async def test_a_questionnaire_response_that_does_not_exist_is_the_404_page(signed_in):
    answer = await signed_in.get("/organisers/questionnaire/responses/424242")
    assert answer.status_code == 404 and "Page not found" in answer.text
