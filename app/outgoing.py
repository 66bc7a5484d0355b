"""What the service's own outgoing HTTPS shares: one TLS context (the system's trusted
authorities), made once per process. Reading the CA bundle costs tens of milliseconds, which
each new httpx client would otherwise spend."""

from __future__ import annotations

import ssl
from functools import lru_cache


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()
