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
