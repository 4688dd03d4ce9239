import pytest

from tests.factories import make_order, make_shop, make_user
from tickets.roles import Role


@pytest.fixture
def shop_a(db):
    return make_shop("shop-a")


@pytest.fixture
def shop_b(db):
    return make_shop("shop-b", kind="tmall", location="shanghai")


@pytest.fixture
def agent(shop_a):
    return make_user("agent-a", Role.AGENT, shops=[shop_a])


@pytest.fixture
def supervisor(db):
    return make_user("boss", Role.SUPERVISOR, all_shops=True)


@pytest.fixture
def finance(db):
    return make_user("money", Role.FINANCE, all_shops=True)


@pytest.fixture
def order_a(shop_a):
    return make_order(shop_a)


@pytest.fixture
def order_b(shop_b):
    return make_order(shop_b)


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    """Photos and sheets written by a test go to a temporary folder, not the desk's var/."""
    storages = {**settings.STORAGES}
    storages["default"] = {
        **storages["default"],
        "OPTIONS": {"location": tmp_path / "private", "base_url": None},
    }
    settings.STORAGES = storages
    settings.MEDIA_ROOT = tmp_path / "private"
    return tmp_path / "private"


@pytest.fixture(autouse=True)
def round_the_clock_service(settings):
    """The service-level clock runs all day in tests (DESK_BUSINESS_HOURS 00:00-24:00), so a
    test's due times never depend on the hour it happens to run at. The service-level tests
    (tests/tickets/test_service_levels.py) set the desk's real hours and freeze the clock."""
    settings.DESK_BUSINESS_HOURS = (0, 24 * 60)


@pytest.fixture(autouse=True, scope="session")
def flush_lifts_append_only_guards():
    """Django's flush after each transactional test empties every table, the append-only ones
    included (TRUNCATE on PostgreSQL, DELETE FROM on SQLite), which their guards refuse. The
    flush lifts them inside its own transaction (``tickets.db.emptying_statements``); the
    desk itself, and a ``manage.py flush`` outside the tests, never do."""
    from django.db import connections

    from tickets.db import emptying_statements

    with pytest.MonkeyPatch.context() as patch:
        for operations in {type(connection.ops) for connection in connections.all()}:
            flush_sql = operations.sql_flush

            def sql_flush(self, *args, _flush_sql=flush_sql, **kwargs):
                return emptying_statements(self.connection, _flush_sql(self, *args, **kwargs))

            patch.setattr(operations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def reference_data(request):
    """Transactional tests empty the tables after themselves; the next one starts again with
    what a freshly migrated database holds (roles, couriers, the postage rate card)."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    restore_reference_data()


def restore_reference_data():
    from django.apps import apps as global_apps

    from tickets.reference import create_couriers, create_postage_rates
    from tickets.roles import sync_roles

    sync_roles(global_apps)
    create_couriers(global_apps)
    create_postage_rates(global_apps)


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the desk's default language: a request in English leaves English
    active in the thread (LocaleMiddleware never switches back), and services called directly
    by the next test would then answer in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def quick_password_hashes(settings):
    """Passwords hashed with MD5 in tests, as Django's testing documentation advises: the
    desk's PBKDF2 (Django's default, 1,000,000 rounds) took 0.4-0.8 s for each user a test
    made on the two-core machine, about half of the suite's time. The desk itself keeps
    Django's default (tests/aftersales/test_passwords.py), and the tests of the login and
    its lockout sign in through the real form either way."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
