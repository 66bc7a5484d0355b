"""Piccolo's configuration, so its own CLI (`piccolo migrations …`) uses the service's database."""

from piccolo.conf.apps import AppRegistry

from app.config import get_config
from app.db import make_engine

DB = make_engine(get_config().database_url)

APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])
