"""The app factory: `create_app(config)` builds the Litestar app on the configured database."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.openapi import OpenAPIConfig
from litestar.response import Template
from litestar.static_files import create_static_files_router

from app.areas import use_council
from app.config import Config, get_config
from app.db import (
    bind_tables,
    ensure_migrated,
    is_outage,
    keep_optimised,
    make_engine,
    pooled,
)
from app.errors import DomainError, NotFound
from app.jobs import run_sender
from app.logs import configure as configure_logging
from app.organisers.services import prepare_hashing, use_password_profile
from app.validation import has_unprintable
from app.web.api import ApiController
from app.web.api_schemas import FieldProblem
from app.web.audit_admin import RecordsAdmin
from app.web.auth import (
    SignInPages,
    organiser_required,
    provide_organiser,
    sign_in_redirect,
)
from app.web.bookings import BookingPages, MovePages
from app.web.copies import CopiesPages
from app.web.dependencies import ConfigDep
from app.web.errors import problem, problem_for
from app.web.feeds import FeedController
from app.web.headers import security_headers
from app.web.information import InformationPages
from app.web.limits import Limiter, RateLimited, rate_limited
from app.web.operations import Operations, prometheus_config, request_log
from app.web.slow_clients import body_read_timeout
from app.web.organiser_api import OrganiserApi
from app.web.organiser_home import OrganiserHome
from app.web.page_cache import (
    CACHED_PATHS,
    STORE,
    drop_after_changes,
    page_cache_config,
    page_store,
    with_etags,
)
from app.web.programme import ProgrammePages
from app.web.programme_admin import ProgrammeAdmin
from app.web.questionnaire import DashboardPage, QuestionnaireAdmin, QuestionnairePages
from app.web.registers import RegisterPages, TeamsImportPages
from app.web.settings_admin import SettingsAdmin
from app.web.clocks import ClocksAdmin, ReminderPages
from app.web.packs import PackAdmin, PackPages
from app.web.evidence import EvidenceAdmin, EvidenceContactPages, InspectorPages
from app.web.templating import ASSETS_DIR, template_config
from app.web.webhooks_admin import WebhooksAdmin
from app.web.training import TrainingAdmin, TrainingPages

log = logging.getLogger("app")

Clock = Callable[[], dt.datetime]

#: Controllers of the organiser workspace: all behind the organiser guard.
ORGANISER_HANDLERS: list[Any] = [OrganiserHome, ProgrammeAdmin, RegisterPages, TeamsImportPages, OrganiserApi,
                                  QuestionnaireAdmin, SettingsAdmin, ClocksAdmin, PackAdmin, EvidenceAdmin,
                                  DashboardPage, TrainingAdmin, RecordsAdmin, WebhooksAdmin]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api")


def _message_page(status: int, heading: str, *paragraphs: str) -> Template:
    return Template("errors/message.html", status_code=status,
                    context={"heading": heading, "paragraphs": list(paragraphs)})


def _not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _is_api(request):
        return problem(404, "not_found", "Not found")
    words = exc.page_words() if isinstance(exc, NotFound) else NotFound.advice
    return _message_page(404, exc.heading if isinstance(exc, NotFound) else NotFound.heading, *words)


def _refused(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """Every domain refusal a handler did not turn into a form's error summary, mapped once as the
    API maps it: a not-found of any kind is a 404 page; any other refusal is a page of its
    heading, its own words and its advice, with its status (a refused operation writes nothing)."""
    if isinstance(exc, NotFound):
        return _not_found(request, exc)
    if _is_api(request):
        return problem_for(exc)
    return _message_page(exc.status, exc.heading, exc.message + ("" if exc.message.endswith((".", "?")) else "."),
                         *exc.advice)


def _not_signed_in(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    if _is_api(request):
        return problem(401, "not_signed_in", "Sign in as an organiser")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return sign_in_redirect(target)


_CODES = {400: "bad_request", 403: "forbidden", 405: "method_not_allowed", 408: "request_timeout",
          413: "body_too_large"}


def _field_problems(extra: Any) -> list[FieldProblem]:
    """Litestar's validation details ({key, message, source}) in the API's own shape."""
    items = extra if isinstance(extra, list) else [extra] if extra else []
    return [FieldProblem(field=str(item.get("key") or item.get("field") or ""), message=str(item.get("message", "")))
            for item in items if isinstance(item, dict)]


#: Litestar words a validation error "Validation failed for GET /path?query": the address (and
#: any token or personal data in its query) is never repeated back or logged.
_FOR_ADDRESS = re.compile(r" for [A-Z]+ \S+$")


def _detail(exc: HTTPException) -> str:
    return _FOR_ADDRESS.sub("", str(exc.detail))


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    headers = dict(exc.headers or {})
    if "allow" in {k.lower() for k in headers}:  # HEAD is answered wherever GET is (ServiceApp)
        allow = next(k for k in headers if k.lower() == "allow")
        methods = [m.strip() for m in headers.pop(allow).split(",")]
        headers["Allow"] = ", ".join(sorted({*methods, *(["HEAD"] if "GET" in methods else [])}))
    if _is_api(request):
        response: Response[Any] = problem(exc.status_code, _CODES.get(exc.status_code, "error"), _detail(exc),
                                          _field_problems(getattr(exc, "extra", None)))
    elif exc.status_code == 403:
        response = _message_page(403, "Your form has expired",
                                 "Go back, reload the page and try again. Nothing was saved.")
    else:
        response = _message_page(exc.status_code, "Sorry, there is a problem", _detail(exc))
    response.headers.update(headers)
    return response


def _rate_limited(request: Request[Any, Any, Any], exc: RateLimited) -> Response[Any]:
    headers = {"Retry-After": str(exc.retry_after)}
    minutes = max(1, round(exc.retry_after / 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if _is_api(request):
        response: Response[Any] = problem(429, "too_many_requests", f"Too many requests: try again in {wait}")
    else:
        response = _message_page(429, "Too many attempts",
                                 f"You have tried this too many times. Wait {wait} and try again.",
                                 "Nothing you sent this time was saved.")
    response.headers.update(headers)
    return response


#: Path segments after these are secrets (manage, questionnaire, invitation, reset and check-in
#: links): logs show the route, never the token.
_SECRET_AFTER = re.compile(r"(/(?:bookings|questionnaire|invitations|password-reset|check-in)/)[^/]+")


def loggable_path(path: str) -> str:
    return _SECRET_AFTER.sub(r"\1…", path)


#: Seconds a client is asked to wait when the database cannot be reached.
RETRY_AFTER_OUTAGE = 30


def _server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_outage(exc):
        log.warning("Database unavailable on %s %s: %s", request.method, loggable_path(request.url.path),
                    type(exc).__name__)
        if _is_api(request):
            response: Response[Any] = problem(503, "unavailable", "The service is busy or down: try again shortly")
        else:
            response = _message_page(503, "Sorry, the service is unavailable",
                                     "Try again in a minute. Nothing you sent just now was saved.")
        response.headers["Retry-After"] = str(RETRY_AFTER_OUTAGE)
        return response
    log.exception("Unhandled error on %s %s", request.method, loggable_path(request.url.path), exc_info=exc)
    if _is_api(request):
        return problem(500, "server_error", "Sorry, there is a problem with the service")
    return _message_page(500, "Sorry, there is a problem with the service", "Try again later.")


#: Ids are PostgreSQL `serial` (32-bit): a larger one in a path cannot name anything.
MAX_ID = 2**31 - 1


async def ids_in_range(connection: Any, _: Any) -> None:
    """Guard on every route: an id in the path that no row can have is 'not found' before it
    reaches the database (where SQLite cannot even bind a number past 64 bits); a path or query
    parameter holding a NUL or another control character is a 400 (PostgreSQL cannot even take a
    NUL: it answered 500)."""
    for value in connection.path_params.values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise NotFoundException()
        if isinstance(value, str) and has_unprintable(value):
            raise ValidationException("The address holds characters that cannot be used")
    for name, value in connection.query_params.multi_items():
        if has_unprintable(name) or has_unprintable(value):
            raise ValidationException(f"The value of {name!r} holds characters that cannot be used"
                                      if not has_unprintable(name) else "A query parameter holds characters that cannot be used")


class ServiceApp(Litestar):
    """The Litestar app, answering HEAD wherever it answers GET (as GET, without the body):
    Litestar's GET routes answer HEAD with 405. Its request log sits outside everything
    Litestar does, exception handlers included, so it records the status actually sent (a CSRF
    refusal or a body too large is answered by the handler around the middleware stack)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._logged = request_log(self._answer)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._logged(scope, receive, send)

    async def _answer(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await super().__call__(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            outer = send

            async def without_body(message: Any) -> None:
                if message["type"] == "http.response.body":
                    message = {**message, "body": b""}
                await outer(message)

            scope["method"], send = "GET", without_body  # in place: the log reads the route from it
        if CACHED_PATHS.match(scope["path"]):
            await with_etags(scope, send, lambda sending: super(ServiceApp, self).__call__(scope, receive, sending))
        else:
            await super().__call__(scope, receive, send)


_frozen = False


def _freeze_what_is_loaded() -> None:
    """What is loaded when the first app of a process starts (modules, the app) lives as long as
    the process: kept out of the collector's full passes, which otherwise walk it all again each
    time, a pause every request in flight waits for."""
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True


def create_app(config: Config | None = None, *, clock: Clock = utc_now) -> Litestar:
    config = config or get_config()
    use_password_profile(config.password_profile)
    use_council(config.council_areas)
    engine = make_engine(config.database_url)
    bind_tables(engine)
    limiter = Limiter(config)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await ensure_migrated(engine)
        await keep_optimised(engine)
        await prepare_hashing()
        _freeze_what_is_loaded()
        async with pooled(engine, config.db_pool_size):
            stop = asyncio.Event()
            sender = None
            if config.mail_sender_in_process:
                sender = asyncio.create_task(run_sender(config, now=clock, stop=stop))
            try:
                yield
            finally:
                stop.set()
                if sender is not None:
                    await sender
                await limiter.counter.close()

    def provide_now(config: ConfigDep) -> dt.datetime:
        # Takes the config (unused) so that Litestar resolves the two one after the other: two
        # dependencies of one level are resolved in an anyio task group, 4% of a booking's CPU.
        return clock()

    def provide_config() -> Config:
        return config

    assets = create_static_files_router(path="/assets", directories=[ASSETS_DIR], include_in_schema=False,
                                        name="assets", cache_control=CacheControlHeader(max_age=3600, public=True))
    # Everything an organiser uses sits behind one guard; tests enumerate the app's routes to
    # prove no organiser page or API route answers an anonymous request.
    workspace = Router(path="/", route_handlers=ORGANISER_HANDLERS, guards=[organiser_required],
                       dependencies={"organiser": Provide(provide_organiser, sync_to_thread=False)})
    return ServiceApp(
        route_handlers=[ProgrammePages, BookingPages, MovePages, CopiesPages, ReminderPages, PackPages,
                        EvidenceContactPages, InspectorPages, FeedController, ApiController, SignInPages, QuestionnairePages,
                        InformationPages, TrainingPages, Operations,
                        workspace, assets],
        middleware=[body_read_timeout(config.body_read_timeout_seconds),
                    *([prometheus_config().middleware] if config.metrics else [])],
        dependencies={"now": Provide(provide_now, sync_to_thread=False),
                      "config": Provide(provide_config, sync_to_thread=False)},
        template_config=template_config(config),
        # The public API has no cookies, so no CSRF; the organiser API (/api/organiser, cookie
        # sessions) is not excluded: its unsafe requests need the X-CSRFToken header.
        csrf_config=CSRFConfig(secret=config.secret_key.get_secret_value(),
                               cookie_name="__Host-csrftoken" if config.base_url.startswith("https://") else "csrftoken",
                               cookie_secure=config.base_url.startswith("https://"),
                               cookie_samesite="lax", exclude=[r"^/api/(events|bookings|settings)(/|\?|$)", r"^/schema",
                                                                 r"^/reminders/[^/]+/one-click$"]),
        openapi_config=OpenAPIConfig(title="Safeguarding forums and training bookings", version="1.0.0",
                                     path="/schema"),
        exception_handlers={
            NotFoundException: _not_found, DomainError: _refused,
            NotAuthorizedException: _not_signed_in, RateLimited: _rate_limited,
            HTTPException: _http_error, Exception: _server_error,
        },
        before_send=[security_headers(config), drop_after_changes],
        response_cache_config=page_cache_config(),
        stores={STORE: page_store()},
        guards=[ids_in_range, rate_limited],
        lifespan=[lifespan],
        logging_config=None,  # app.logs configures logging: one line per event, plain or JSON
        state={"config": config, "clock": clock, "limiter": limiter},
    )


def create_app_from_env() -> Litestar:
    """Entry point for uvicorn's `--factory` (several worker processes)."""
    config = get_config()
    configure_logging(config.log_format, config.log_level)
    return create_app(config)
