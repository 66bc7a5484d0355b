"""What handlers receive besides the request: declared by name, as Litestar 3 requires."""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

from litestar.di import NamedDependency

from app.config import Config
from app.organisers.services import OrganiserView

#: The current time, from the app's clock (tests set it).
Now: TypeAlias = NamedDependency[dt.datetime]
#: The service's configuration.
ConfigDep: TypeAlias = NamedDependency[Config]
#: The signed-in organiser (only on routes behind the organiser guard).
Organiser: TypeAlias = NamedDependency[OrganiserView]
