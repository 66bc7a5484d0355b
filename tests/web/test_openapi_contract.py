"""The API answers as its OpenAPI document says, tried by schemathesis with all its checks
(server errors, undocumented status codes, response bodies against their schemas, valid data
refused, methods not allowed, and the rest of schemathesis's registry): on the demo programme,
100 generated requests an operation on SQLite and 25 on PostgreSQL, derandomised (the same cases
every run, so a failure is reproduced by running it again)."""

import asyncio
import datetime as dt

import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import CHECKS, load_all_checks

from app.config import Config
from app.main import create_app
from app.programme.seeding import seed_programme

EXAMPLES = {"sqlite": 100, "postgres": 25}
SEED = 20261202


def test_the_api_answers_as_its_openapi_document_says(db):
    asyncio.run(seed_programme(demo=True, now=dt.datetime.now(dt.timezone.utc)))
    app = create_app(Config(database_url=db, base_url="http://testserver", secret_key="s", db_pool_size=0,
                            mail_sender_in_process=False, rate_limits=False, password_profile="cheapest"))
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9, [o.label for o in operations]
    load_all_checks()
    every_check = list(CHECKS.get_all())
    assert len(every_check) >= 10
    examples = EXAMPLES["sqlite" if db.startswith("sqlite") else "postgres"]
    tried = []
    for operation in operations:
        @seed(SEED)
        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)
        def answers_as_documented(case):
            case.call_and_validate(checks=every_check)

        answers_as_documented()
        tried.append(operation.label)
    assert "POST /api/events/{event_id}/bookings" in tried


def test_the_booking_body_is_documented_from_the_model_that_checks_it(tmp_path):
    """The request schema is made from BookingRequest: every field it takes, and its bounds."""
    from app.bookings.validation import BookingRequest, SettingIn

    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'doc.sqlite'}", secret_key="s",
                            mail_sender_in_process=False))
    document = app.openapi_schema.to_schema()
    [operation] = [op["post"] for path, op in document["paths"].items() if path.endswith("/bookings") and "post" in op]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == set(BookingRequest.model_fields)
    assert set(body["properties"]["setting"]["properties"]) == set(SettingIn.model_fields)
    assert body["additionalProperties"] is False and set(body["required"]) == {"name", "email", "role", "setting"}
    assert body["properties"]["name"]["maxLength"] == 200
    assert body["properties"]["role"]["enum"] == ["dsl", "deputy_dsl", "headteacher_manager", "other"]
