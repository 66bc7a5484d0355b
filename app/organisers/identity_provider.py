"""Organisers signing in through the council's identity provider (OpenID Connect).

The authorisation code flow with PKCE, state and nonce (Authlib's client), the ID token's
signature checked against the provider's published keys and its issuer, audience, expiry and
nonce against what this service sent (joserfc, under Authlib). What is sent and not yet back is
kept in the database (`ProviderSignIn`), so any process can finish a sign-in, and only once.

Who comes in is decided here, from the token's claims and the settings (`Config.oidc_*`): an
allowed email domain, an allowed group, the role from a group, an account bound to the
provider's issuer and subject (Entra ID: tenant and object ids) at its first sign-in and found by
them alone after. Every sign-in through the provider is audited, refusals too.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import warnings
from dataclasses import dataclass
from typing import Any

from typing import TYPE_CHECKING

from app.audit.services import record
from app.config import Config
from app.db import write_transaction
from app.errors import DomainError
from app.outgoing import tls_context
from app.organisers.services import OrganiserView, new_session, token_hash
from app.tables.organisers import Organiser, OrganiserRole, ProviderSignIn

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import AsyncOAuth2Client
    from joserfc.jwk import KeySet

# Authlib, joserfc and httpx are imported where a sign-in through the provider needs them: a
# tenth of a second at the start of every process (web workers, senders, commands) otherwise,
# for a council that may not use a provider at all.

CALLBACK_PATH = "/organisers/sign-in/provider/callback"
#: How long the provider's login may take, from the button to coming back.
REQUEST_VALID_FOR = dt.timedelta(minutes=10)
#: Clocks differ a little: an ID token is accepted this many seconds either side of its times.
LEEWAY_SECONDS = 60
#: The provider's discovery document is read again after this long (its keys when one is unknown).
DISCOVERY_FOR_SECONDS = 3600
TIMEOUT_SECONDS = 10.0
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


class ProviderSignInRefused(DomainError):
    """The identity provider's answer does not let this person in; nothing was saved."""

    code = "provider_sign_in_refused"
    status = 403
    heading = "You cannot sign in"
    advice = ("If you think you should be able to, ask an administrator of this service or your IT team.",)

    def __init__(self, message: str, *, reason: str, advice: tuple[str, ...] | None = None):
        super().__init__(message)
        self.reason = reason
        #: Who the token named, where the refusal came after it was checked (for the audit).
        self.subject: str | None = None
        if advice is not None:
            self.advice = advice


class ProviderUnavailable(ProviderSignInRefused):
    status = 502
    heading = "Signing in is not working at the moment"
    advice = ("Try again in a few minutes. If it keeps happening, tell your IT team.",)


def _start_again(message: str, reason: str) -> ProviderSignInRefused:
    return ProviderSignInRefused(message, reason=reason, advice=(
        "Go back to the sign-in page and choose the button again.",))


# What the provider publishes, kept by each process for an hour (the keys until one is unknown):
# a copy of public documents, never the only record of anything.
_documents: dict[str, tuple[float, dict[str, Any]]] = {}
_key_sets: dict[str, KeySet] = {}


async def _get_json(url: str) -> dict[str, Any]:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=tls_context()) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(f"The identity provider did not answer ({type(exc).__name__}).",
                                  reason="provider_unavailable") from exc


async def discovery(config: Config) -> dict[str, Any]:
    """The provider's OpenID configuration, whose issuer must be the one configured."""
    issuer = config.oidc_issuer
    kept = _documents.get(issuer)
    if kept and time.monotonic() - kept[0] < DISCOVERY_FOR_SECONDS:
        return kept[1]
    document = await _get_json(f"{issuer}/.well-known/openid-configuration")
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ProviderUnavailable("The identity provider names a different issuer from the one this service is set "
                                  "up for (OIDC_ISSUER).", reason="issuer_mismatch")
    _documents[issuer] = (time.monotonic(), document)
    return document


async def _keys(document: dict[str, Any], *, fresh: bool = False) -> "KeySet":
    from joserfc.jwk import KeySet

    uri = document["jwks_uri"]
    if fresh or uri not in _key_sets:
        _key_sets[uri] = KeySet.import_key_set(await _get_json(uri))
    return _key_sets[uri]


def _client(config: Config) -> "AsyncOAuth2Client":
    import authlib.deprecate  # noqa: F401 (it sets its warnings to "always" as it is imported)

    with warnings.catch_warnings():
        # Authlib 1.9 asks for httpx2 (a fork) and says so once on import; this service's one
        # HTTP client is httpx, which Authlib supports all the same.
        warnings.filterwarnings("ignore", message="The httpx module is deprecated")
        from authlib.integrations.httpx_client import AsyncOAuth2Client
    return AsyncOAuth2Client(
        client_id=config.oidc_client_id, client_secret=config.oidc_client_secret.get_secret_value(),
        redirect_uri=config.base_url + CALLBACK_PATH, scope="openid email profile",
        code_challenge_method="S256", timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=tls_context())


async def start_sign_in(config: Config, now: dt.datetime, next_path: str) -> tuple[str, str]:
    """Where to send the browser (the provider's login), and the state its cookie must carry back."""
    from authlib.common.security import generate_token

    document = await discovery(config)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), generate_token(64)
    async with write_transaction():
        await ProviderSignIn.delete().where(ProviderSignIn.expires_at < now)
        await ProviderSignIn.insert(ProviderSignIn(state_hash=token_hash(state), nonce=nonce, code_verifier=verifier,
                                                   next_path=next_path, expires_at=now + REQUEST_VALID_FOR))
    async with _client(config) as client:
        url, _ = client.create_authorization_url(document["authorization_endpoint"], state=state, nonce=nonce,
                                                 code_verifier=verifier)
    return url, state


async def checked_id_token(id_token: str, *, config: Config, document: dict[str, Any], nonce: str,
                           now: dt.datetime) -> dict[str, Any]:
    """The ID token's claims, once its signature (a key the provider publishes now: read again
    when the token names one not seen before), issuer, audience, expiry and nonce are right."""
    from joserfc import jwt
    from joserfc.errors import InvalidKeyIdError, JoseError

    try:
        try:
            token = jwt.decode(id_token, await _keys(document), algorithms=ALGORITHMS)
        except InvalidKeyIdError:  # the provider has rotated its keys
            token = jwt.decode(id_token, await _keys(document, fresh=True), algorithms=ALGORITHMS)
        claims = token.claims
        jwt.JWTClaimsRegistry(
            now=int(now.timestamp()), leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": document["issuer"]},
            aud={"essential": True, "value": config.oidc_client_id},
            sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != config.oidc_client_id:
            raise ValueError("azp")
    except (JoseError, ValueError, KeyError) as exc:
        raise _start_again(f"The identity provider's answer could not be trusted ({_why(exc)}).",
                           reason=f"id_token_{_why(exc)}") from exc
    return claims


def _why(exc: Exception) -> str:
    from joserfc.errors import JoseError

    if isinstance(exc, JoseError):
        return exc.error + (f" {exc.claim}" if getattr(exc, "claim", None) else "")
    return type(exc).__name__


@dataclass(frozen=True)
class Person:
    identity: str
    email: str
    name: str
    role: OrganiserRole | None  #: from the group claim; None: as set in this service


def identity_of(claims: dict[str, Any]) -> str:
    """The account's binding: Entra ID's tenant and object ids (stable across its apps), else the
    issuer and subject, as the specification says."""
    if claims.get("tid") and claims.get("oid"):
        return f"entra {claims['tid']} {claims['oid']}"
    return f"{claims['iss']} {claims['sub']}"


def person_from(claims: dict[str, Any], config: Config) -> Person:
    """Who the token says this is, if the settings let them in (ProviderSignInRefused if not)."""
    email = str(claims.get("email") or claims.get("preferred_username") or "").strip().lower()
    if "@" not in email:
        raise ProviderSignInRefused("Your account has no email address this service can use.", reason="no_email")
    if claims.get("email_verified") is False:
        raise ProviderSignInRefused("Your account's email address is not verified.", reason="email_unverified")
    if config.oidc_allowed_domains and email.rsplit("@", 1)[1] not in config.oidc_allowed_domains:
        raise ProviderSignInRefused("Accounts with this email address cannot sign in to this service.",
                                    reason="domain_not_allowed")
    role = _role(claims, config)
    return Person(identity_of(claims), email, str(claims.get("name") or email).strip()[:200], role)


def _role(claims: dict[str, Any], config: Config) -> OrganiserRole | None:
    by_groups = config.oidc_administrator_groups or config.oidc_organiser_groups
    if not (by_groups or config.oidc_allowed_groups):
        return None
    claim = config.oidc_groups_claim
    if claim in (claims.get("_claim_names") or {}) or claims.get("hasgroups"):
        raise ProviderSignInRefused(
            "Your account is in too many groups for the identity provider to send them all, so this service cannot "
            "tell whether you may come in.", reason="groups_overflow", advice=(
                "Ask your IT team to give this service app roles and send them in the roles claim "
                "(OIDC_GROUPS_CLAIM=roles) instead of groups.",))
    value = claims.get(claim) or []
    groups = {str(g).casefold() for g in (value if isinstance(value, list) else [value])}
    if config.oidc_allowed_groups and not groups & set(config.oidc_allowed_groups):
        raise ProviderSignInRefused("Your account is not in a group allowed to sign in to this service.",
                                    reason="group_not_allowed")
    if not by_groups:
        return None
    if groups & set(config.oidc_administrator_groups):
        return OrganiserRole.administrator
    if groups & set(config.oidc_organiser_groups):
        return OrganiserRole.organiser
    raise ProviderSignInRefused("Your account is not in a group that gives a role in this service.",
                                reason="no_role_group")


async def finish_sign_in(params: dict[str, str], *, browser_state: str | None, config: Config, now: dt.datetime,
                         previous: str | None = None) -> tuple[str, str]:
    """The provider has sent the browser back: a new session's token and where to go next, or
    ProviderSignInRefused (audited, with its reason)."""
    try:
        return await _finish(params, browser_state=browser_state, config=config, now=now, previous=previous)
    except ProviderSignInRefused as refused:
        await record("organiser.provider_sign_in_refused", "identity provider", reason=refused.reason,
                     subject=refused.subject)
        raise


async def _finish(params: dict[str, str], *, browser_state: str | None, config: Config, now: dt.datetime,
                  previous: str | None) -> tuple[str, str]:
    import httpx
    from authlib.oauth2 import OAuth2Error

    state = params.get("state") or ""
    if not state or not browser_state or not secrets.compare_digest(state, browser_state):
        raise _start_again("This sign-in was not started in this browser, or has already been used.",
                           reason="state_mismatch")
    used = await ProviderSignIn.delete().where(ProviderSignIn.state_hash == token_hash(state)).returning(
        ProviderSignIn.nonce, ProviderSignIn.code_verifier, ProviderSignIn.next_path, ProviderSignIn.expires_at)
    if not used or used[0]["expires_at"] <= now:
        raise _start_again("This sign-in has already been used or took too long.", reason="state_used_or_expired")
    pending = used[0]
    if params.get("error"):
        raise ProviderSignInRefused(f"The identity provider did not sign you in ({params['error'][:100]}).",
                                    reason=f"provider_{params['error'][:60]}")
    document = await discovery(config)
    if params.get("iss") and params["iss"].rstrip("/") != document["issuer"].rstrip("/"):
        raise _start_again("The answer came from a different identity provider.", reason="iss_mismatch")
    if not params.get("code"):
        raise _start_again("The identity provider's answer had no code.", reason="no_code")
    try:
        async with _client(config) as client:
            token = await client.fetch_token(document["token_endpoint"], grant_type="authorization_code",
                                             code=params["code"], code_verifier=pending["code_verifier"])
    except OAuth2Error as exc:
        raise _start_again(f"The identity provider refused the sign-in ({exc.error}).",
                           reason=f"token_{exc.error}") from exc
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"The identity provider did not answer ({type(exc).__name__}).",
                                  reason="provider_unavailable") from exc
    if "id_token" not in token:
        raise _start_again("The identity provider's answer had no ID token.", reason="no_id_token")
    claims = await checked_id_token(token["id_token"], config=config, document=document, nonce=pending["nonce"],
                                    now=now)
    try:
        person = person_from(claims, config)
        organiser = await _account_for(person, config, now)
    except ProviderSignInRefused as refused:
        refused.subject = identity_of(claims)
        raise
    session = await new_session(organiser.id, {Organiser.last_sign_in_at: now}, now, previous,
                                lasts=dt.timedelta(hours=config.session_max_hours))
    await record("organiser.signed_in", organiser.email, via="identity provider", role=organiser.role)
    return session, pending["next_path"]


async def _account_for(person: Person, config: Config, now: dt.datetime) -> OrganiserView:
    """The account bound to this identity; at a first sign-in, the account added for this email
    address (then bound), or a new one where the settings allow. The role from the groups, if
    they give it, is written on every sign-in."""
    async with write_transaction():
        row = await Organiser.select().where(Organiser.identity == person.identity).first()
        if row is None:
            row = await Organiser.select().where(
                (Organiser.email == person.email) & Organiser.identity.is_null()).first()
            if row is not None:
                await Organiser.update({Organiser.identity: person.identity}).where(Organiser.id == row["id"])
                await record("organiser.bound_to_provider", person.email, identity=person.identity)
        if row is None:
            if not config.oidc_create_accounts:
                raise ProviderSignInRefused("There is no organiser account for you in this service.",
                                            reason="no_account", advice=(
                                                "Ask an administrator of this service to add you.",))
            if await Organiser.exists().where(Organiser.email == person.email):
                raise ProviderSignInRefused("An account with your email address is bound to another identity.",
                                            reason="email_bound_elsewhere")
            role = person.role or OrganiserRole.organiser
            rows = await Organiser.insert(Organiser(email=person.email, name=person.name, identity=person.identity,
                                                    role=role.value, created_at=now)).returning(Organiser.id)
            await record("organiser.created", "identity provider", organiser=person.email, role=role.value)
            return OrganiserView(rows[0]["id"], person.email, person.name, role.value)
        if not row["active"]:
            raise ProviderSignInRefused("Your organiser account has been deactivated.", reason="deactivated")
        if person.role is not None and person.role.value != row["role"]:
            await Organiser.update({Organiser.role: person.role.value}).where(Organiser.id == row["id"])
            await record("organiser.role_changed", "identity provider", organiser=row["email"], role=person.role.value)
            row["role"] = person.role.value
        return OrganiserView.from_row(row)
