from tests.web.conftest import client, organiser, signed_in  # noqa: F401 - shared fixtures
