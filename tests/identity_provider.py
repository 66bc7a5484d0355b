"""A real OpenID Connect provider for the tests: `tests/oidc_provider/provider.mjs` (the npm
package oidc-provider, installed by `make test`) run by Node.js on a loopback port, and a person
at its login form (`log_in`). Starting it again makes a new signing key: a key rotation."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from tests.support import PROJECT_ROOT, free_port

PROVIDER_DIR = PROJECT_ROOT / "tests" / "oidc_provider"
CLIENT_ID, CLIENT_SECRET = "safeguarding-bookings", "a-client-secret-for-the-tests-only"
OTHER_CLIENT_ID = "another-service"


def unavailable() -> str | None:
    """Why the provider cannot run here (None when it can)."""
    if shutil.which("node") is None:
        return "Node.js not found (apt-get install -y nodejs npm)"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return "oidc-provider not installed (make test installs it: cd tests/oidc_provider && npm ci)"
    return None


class Provider:
    """The provider, for clients whose redirect URIs are given, with accounts (login name to
    the claims its tokens carry)."""

    def __init__(self, redirect_uris: list[str], accounts: dict[str, dict[str, Any]], id_token_ttl: int = 3600):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "OP_PORT": str(self.port), "OP_ID_TOKEN_TTL": str(id_token_ttl),
                    "OP_ACCOUNTS": json.dumps(accounts), "OP_CLIENTS": json.dumps([
                        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris},
                        {"client_id": OTHER_CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris},
                    ])}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()
        self.key_id = ""

    def start(self) -> "Provider":
        self.process = subprocess.Popen(["node", "provider.mjs"], cwd=PROVIDER_DIR, env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.log.seek(0)
            found = re.search(rb"listening \S+ kid=(\S+)", self.log.read())
            if found:
                self.key_id = found.group(1).decode()
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.log.seek(0)
        raise RuntimeError(f"the identity provider did not start:\n{self.log.read().decode()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self) -> "Provider":
        """Stopped and started on the same port: a new signing key (and its sessions forgotten)."""
        self.stop()
        self.log.seek(0)
        self.log.truncate()
        return self.start()

    def settings(self, **more: Any) -> dict[str, Any]:
        """The service's settings for this provider."""
        return {"oidc_issuer": self.issuer, "oidc_client_id": CLIENT_ID, "oidc_client_secret": CLIENT_SECRET, **more}

    def log_in(self, authorization_url: str, login: str, until: str) -> str:
        """A person at the provider's own login form: the address the provider sends the browser
        back to (the first one starting with `until`)."""
        with httpx.Client(timeout=10, verify=False) as browser:  # plain http on loopback: no CA bundle to read
            response = browser.get(authorization_url)
            for _ in range(10):
                location = response.headers.get("location", "")
                if location.startswith(until):
                    return location
                if response.status_code in (302, 303):
                    response = browser.get(urljoin(str(response.url), location))
                    continue
                form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
                assert form, f"no login form at {response.url}: {response.text[:500]}"
                response = browser.post(urljoin(str(response.url), form.group(1)),
                                        data={"prompt": "login", "login": login, "password": "any"})
        raise AssertionError("the provider never sent the browser back")


def id_token_for(provider: Provider, client_id: str, login: str, redirect_uri: str) -> dict[str, Any]:
    """Tokens the provider issued to `client_id` for `login` (a whole code flow, done by hand):
    a real token to hand to the service's checks, such as one for another audience."""
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    nonce = secrets.token_urlsafe(16)
    query = httpx.QueryParams(client_id=client_id, response_type="code", scope="openid email profile",
                              redirect_uri=redirect_uri, state="s", nonce=nonce, code_challenge=challenge,
                              code_challenge_method="S256")
    back = provider.log_in(f"{provider.issuer}/auth?{query}", login, redirect_uri)
    code = httpx.URL(back).params["code"]
    tokens = httpx.post(f"{provider.issuer}/token", auth=(client_id, CLIENT_SECRET), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": verifier}).json()
    return {**tokens, "nonce": nonce}


