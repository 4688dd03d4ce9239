"""The registers' front page says what waits in each register, counted on the user's own
shops (issue 17: it was a page of bare titles)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from tests.factories import make_order
from tickets.models import Courier, CourierLossReport
from tickets.services.courier_losses import courier_loss_create, courier_loss_transition
from tickets.services.handover import handover_add
from tickets.services.reviews import review_register


def _loss(actor, order, tracking_no):
    return courier_loss_create(
        actor=actor,
        order=order,
        courier=Courier.objects.filter(priced_by_hand=False).first(),
        tracking_no=tracking_no,
        damage=CourierLossReport.Damage.LOST,
        items_description="连衣裙 M ×1",
        items_value="100.00",
        shop_action=CourierLossReport.ShopAction.RESHIP,
        claimed_amount="100.00",
    )


def test_the_front_page_counts_what_waits_in_the_users_shops(
    client, agent, supervisor, shop_a, shop_b, order_a, order_b, django_assert_max_num_queries
):
    # given in shop A: two reviews being followed, an open and a settled loss report, a
    # handover item; and in shop B, which the agent does not serve, the same again
    made = timezone.now() - timedelta(hours=2)
    second_a = make_order(shop_a, order_no="880000000000000002")
    for order in (order_a, second_a, order_b):
        review_register(actor=supervisor, order=order, rating="negative", made_at=made)
    _loss(supervisor, order_a, "ZTO100200300")
    settled = _loss(supervisor, second_a, "ZTO100200301")
    for step in ("handed", "accepted"):
        settled = courier_loss_transition(actor=supervisor, report=settled, to_status=step)
    courier_loss_transition(
        actor=supervisor, report=settled, to_status="settled", received_amount=Decimal("80")
    )
    _loss(supervisor, order_b, "ZTO100200302")
    handover_add(actor=supervisor, shop=shop_a, note="买家要求改地址")
    handover_add(actor=supervisor, shop=shop_b, note="另一家店的事")
    # when the agent opens the registers' front page
    client.force_login(agent)
    with django_assert_max_num_queries(20):
        html = client.get("/registers/").content.decode()
    # then each register says what waits in the agent's shop only
    assert "2 条跟进中" in html
    assert "1 份未结案" in html
    assert "1 条未处理" in html
    assert "0 个处理中" in html
    # and in English
    client.cookies["django_language"] = "en"
    english = client.get("/registers/").content.decode()
    assert "2 being followed up" in english
    assert "1 open report" in english
    assert "1 not handled" in english
