from tests.web.conftest import client  # noqa: F401 - shared fixture
