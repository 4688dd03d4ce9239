"""The month's VIP follow-ups (特邀VIP回访): planned by Celery beat on the 1st, once per VIP and
month whoever runs it and however often, caught up when beat was down, and waiting on the
assigned agent's dashboard."""

import re
import threading
from datetime import date

import pytest
from celery.schedules import crontab
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from aftersales.celery import app
from finance_exports import tasks as finance_tasks
from tests.factories import make_shop, make_user
from tests.finance_exports.helpers import Clock, at
from tickets.models import Notification, VipCustomer, VipFollowUp
from tickets.roles import Role
from tickets.selectors_registers import vip_follow_ups_pending
from tickets.services.vips import vip_add, vip_follow_up_record, vip_follow_ups_plan
from tickets.tasks import plan_vip_follow_ups

DEC = date(2026, 12, 1)
NOV = date(2026, 11, 1)
EARLY = at(date(2026, 10, 1), "10:00:00")


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def vips(supervisor, shop_a, shop_b):
    """Three active VIPs in two shops and one no longer called."""
    made = [
        vip_add(actor=supervisor, shop=shop_a, buyer_nick="老顾客甲"),
        vip_add(actor=supervisor, shop=shop_a, buyer_nick="老顾客乙"),
        vip_add(actor=supervisor, shop=shop_b, buyer_nick="B店老顾客"),
    ]
    VipCustomer.objects.create(shop=shop_a, buyer_nick="不再回访", is_active=False)
    # on the list long before the months the tests plan (a VIP added on a month's last day
    # waits for the next month: test_a_vip_added_on_the_last_day_waits_for_the_next_month)
    VipCustomer.objects.update(created_at=EARLY)
    return made


def beat_runs() -> dict:
    app.finalize()
    return app.conf.beat_schedule


# --- the schedule ---------------------------------------------------------------------------
def test_beat_plans_the_follow_ups_on_the_first_at_eight_beijing_time():
    entry = beat_runs()["vip-follow-ups"]
    assert entry["task"] == plan_vip_follow_ups.name
    assert entry["task"] in app.tasks
    assert isinstance(entry["schedule"], crontab)
    schedule = entry["schedule"]
    assert (schedule.day_of_month, schedule.hour, schedule.minute) == ({1}, {8}, {0})
    assert len(schedule.month_of_year) == 12
    assert app.conf.timezone == "Asia/Shanghai"
    # read in Beijing time: after November's run, the next is 1 December 08:00 there
    last_run, delta, _now = schedule.remaining_delta(at(NOV, "08:00:00"))
    assert last_run + delta == at(DEC, "08:00:00")
    assert str(schedule.tz) == "Asia/Shanghai"


# --- once per VIP and month -------------------------------------------------------------------
def test_the_task_run_twice_creates_each_follow_up_once(clock, vips, agent, shop_a, shop_b):
    # given an agent in each shop, on the 1st at 08:00 Beijing time
    agent_b = make_user("agent-b", Role.AGENT, shops=[shop_b])
    clock.set(at(DEC, "08:00:00"))
    # when beat runs the task, and a second beat (or a retry) runs it again
    assert plan_vip_follow_ups.apply().get() == 3
    assert plan_vip_follow_ups.apply().get() == 0
    # then one follow-up per active VIP for December, each with an agent of its shop
    planned = VipFollowUp.objects.select_related("vip", "assignee").order_by("vip__buyer_nick")
    assert [(f.vip.buyer_nick, f.month, f.assignee) for f in planned] == [
        ("B店老顾客", DEC, agent_b),
        ("老顾客乙", DEC, agent),
        ("老顾客甲", DEC, agent),
    ]
    assert not VipFollowUp.objects.filter(vip__is_active=False).exists()


def test_the_database_refuses_a_second_follow_up_for_the_same_month(vips):
    VipFollowUp.objects.create(vip=vips[0], month=DEC)
    with pytest.raises(IntegrityError), transaction.atomic():
        VipFollowUp.objects.create(vip=vips[0], month=DEC)


def test_not_before_the_time_on_the_first(clock, vips, agent):
    clock.set(at(DEC, "07:59:59"))
    assert vip_follow_ups_pending(timezone.now()) is False
    assert plan_vip_follow_ups.apply().get() == 0
    assert not VipFollowUp.objects.exists()
    clock.set(at(DEC, "08:00:00"))
    assert vip_follow_ups_pending(timezone.now()) is True


def test_the_same_agent_calls_the_same_vip_and_new_ones_go_to_the_least_busy(
    clock, vips, agent, shop_a
):
    # given November's calls were made by the first agent; a second agent joined since
    clock.set(at(NOV, "08:00:00"))
    plan_vip_follow_ups.apply()
    second = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    other_shop = make_user("agent-elsewhere", Role.AGENT, shops=[make_shop("shop-c")])
    # a new VIP this month
    newcomer = vip_add(
        actor=make_user("boss-a", Role.SUPERVISOR, all_shops=True),
        shop=shop_a,
        buyer_nick="新VIP",
    )
    VipCustomer.objects.filter(pk=newcomer.pk).update(created_at=at(NOV, "12:00:00"))
    # when December is planned
    clock.set(at(DEC, "08:00:00"))
    plan_vip_follow_ups.apply()
    # then the VIPs keep their agent, the newcomer goes to the agent with none this month
    december = {f.vip_id: f.assignee for f in VipFollowUp.objects.filter(month=DEC)}
    assert december[vips[0].pk] == december[vips[1].pk] == agent
    assert december[newcomer.pk] == second
    assert other_shop not in december.values()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_runs_at_the_same_moment_create_each_follow_up_once(monkeypatch):
    # given three VIPs and an agent, on the 1st after 08:00
    shop = make_shop("conc-vip")
    make_user("conc-agent", Role.AGENT, shops=[shop])
    for nick in ("甲", "乙", "丙"):
        VipCustomer.objects.create(shop=shop, buyer_nick=nick, created_at=EARLY)
    monkeypatch.setattr(timezone, "now", Clock(at(DEC, "08:00:05")))
    barrier, created, failures = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait(timeout=10)
            created.append(vip_follow_ups_plan(month=DEC))
        except Exception as exc:  # any failure is the test's to report
            failures.append(exc)
        finally:
            connection.close()

    # when beat's task and a supervisor's button run at once
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then three follow-ups, counted once between the two runs
    assert failures == []
    assert sorted(created) == [0, 3]
    assert VipFollowUp.objects.filter(month=DEC).count() == 3


# --- catch-up ---------------------------------------------------------------------------------
def test_a_first_missed_by_beat_is_caught_up_by_the_minutely_check(clock, vips, agent, monkeypatch):
    queued = []
    monkeypatch.setattr(plan_vip_follow_ups, "delay", lambda: queued.append("vip"))
    monkeypatch.setattr(finance_tasks, "sheets_pending", lambda *a, **k: False)
    # given beat was down from 30 November to 3 December
    clock.set(at(date(2026, 12, 3), "10:15:00"))
    # when the minutely check (or a worker starting) runs
    assert finance_tasks.catch_up_if_due() is True
    # then it queued the month's planning, which creates what the 1st should have
    assert queued == ["vip"]
    assert plan_vip_follow_ups.apply().get() == 3
    assert set(VipFollowUp.objects.values_list("month", flat=True)) == {DEC}
    # and from then on it finds nothing to do
    assert finance_tasks.catch_up_if_due() is False
    assert queued == ["vip"]


def test_the_check_on_the_first_before_the_time_leaves_it_to_beat(clock, vips, monkeypatch):
    queued = []
    monkeypatch.setattr(plan_vip_follow_ups, "delay", lambda: queued.append("vip"))
    monkeypatch.setattr(finance_tasks, "sheets_pending", lambda *a, **k: False)
    clock.set(at(DEC, "03:00:00"))
    assert finance_tasks.catch_up_if_due() is False
    assert queued == []


# --- the reminder on the agent's dashboard ---------------------------------------------------
def test_the_agent_sees_this_months_calls_on_the_dashboard_until_made(
    client, clock, vips, agent, shop_b
):
    agent_b = make_user("agent-b", Role.AGENT, shops=[shop_b])
    clock.set(at(DEC, "08:00:00"))
    plan_vip_follow_ups.apply()
    clock.set(at(date(2026, 12, 2), "09:30:00"))

    client.force_login(agent)
    html = client.get(reverse("tickets:dashboard")).content.decode()
    assert 'id="my-vip-follow-ups"' in html
    assert "本月 VIP 回访：2 位待回访" in html
    for vip in vips[:2]:
        assert reverse("registers:vip_detail", args=[vip.pk]) in html
        assert vip.buyer_nick in html
    assert "B店老顾客" not in html  # another shop's, another agent's

    # once a call is recorded it leaves the list
    follow_up = VipFollowUp.objects.get(vip=vips[0])
    vip_follow_up_record(actor=agent, follow_up=follow_up, done=True, notes="已电话回访，满意")
    html = client.get(reverse("tickets:dashboard")).content.decode()
    assert "本月 VIP 回访：1 位待回访" in html
    assert reverse("registers:vip_detail", args=[vips[0].pk]) not in html

    client.force_login(agent_b)
    html = client.get(reverse("tickets:dashboard")).content.decode()
    assert "B店老顾客" in html and "老顾客甲" not in html


def test_no_reminder_without_calls_this_month(client, clock, vips, agent):
    clock.set(at(NOV, "08:00:00"))
    plan_vip_follow_ups.apply()
    clock.set(at(DEC, "07:00:00"))  # November's calls are not December's reminder
    client.force_login(agent)
    html = client.get(reverse("tickets:dashboard")).content.decode()
    assert 'id="my-vip-follow-ups"' not in html


# --- the reminder in the agent's bell (issue 13 section 4) ------------------------------------
def bell_count(client) -> int:
    """The unread count the top bar's bell shows on the dashboard (0 when it shows none)."""
    html = client.get(reverse("tickets:dashboard")).content.decode()
    found = re.search(r'<span class="bell-count"[^>]*>(\d+)</span>', html)
    return int(found.group(1)) if found else 0


def test_beat_planning_the_month_rings_each_assigned_agents_bell_once(
    client, clock, vips, agent, shop_a, shop_b, supervisor
):
    # given an agent in each shop and one who serves shop A but gets no call this month
    agent_b = make_user("agent-b", Role.AGENT, shops=[shop_b])
    clock.set(at(DEC, "08:00:00"))
    client.force_login(agent)
    assert bell_count(client) == 0
    # when beat plans December (eagerly, as a worker would run it)
    assert plan_vip_follow_ups.apply().get() == 3
    # then each agent with calls has one reminder, however many calls they have
    reminders = Notification.objects.filter(kind=Notification.Kind.VIP_FOLLOW_UPS)
    assert sorted(reminders.values_list("recipient__username", flat=True)) == [
        "agent-a",
        "agent-b",
    ]
    mine = reminders.get(recipient=agent)
    assert mine.params == {"month": "2026-12"}
    assert mine.url == reverse("tickets:dashboard") + "#my-vip-follow-ups"
    assert mine.message == "2026 年 12 月的 VIP 回访已分配给你，请在月底前回访"
    with translation.override("en"):
        english = mine.message
    assert english == "VIP follow-ups for 12/2026 are assigned to you; call before month end"
    assert bell_count(client) == 1
    # and the supervisor who plans nothing is not told
    assert not reminders.filter(recipient=supervisor).exists()

    # when beat runs again, and a VIP added mid-month is planned by the catch-up
    assert plan_vip_follow_ups.apply().get() == 0
    clock.set(at(date(2026, 12, 10), "11:00:00"))
    vip_add(actor=supervisor, shop=shop_a, buyer_nick="十号加入")
    assert vip_follow_ups_pending(timezone.now()) is True
    assert plan_vip_follow_ups.apply().get() == 1
    # then nobody is told twice for the month, and the bell still says one
    assert reminders.filter(recipient=agent).count() == 1
    assert reminders.count() == 2
    client.force_login(agent)  # a new day's session
    assert bell_count(client) == 1
    client.force_login(agent_b)
    assert bell_count(client) == 1

    # and January's planning rings again
    clock.set(at(date(2027, 1, 1), "08:00:00"))
    assert plan_vip_follow_ups.apply().get() == 4
    assert reminders.filter(recipient=agent).count() == 2
    client.force_login(agent)
    assert bell_count(client) == 2


def test_a_supervisors_plan_button_rings_the_bell_too(client, clock, vips, agent, supervisor):
    clock.set(at(DEC, "09:00:00"))
    client.force_login(supervisor)
    client.post(reverse("registers:vip_plan"))
    assert VipFollowUp.objects.filter(month=DEC).count() == 3
    client.force_login(agent)
    assert bell_count(client) == 1


def test_no_agent_no_reminder(clock, vips):
    # a shop without agents: the follow-ups wait unassigned and nobody is told
    clock.set(at(DEC, "08:00:00"))
    assert plan_vip_follow_ups.apply().get() == 3
    assert not VipFollowUp.objects.filter(assignee__isnull=False).exists()
    assert not Notification.objects.exists()


# --- a VIP added at the month's very end -------------------------------------------------------
def test_a_vip_added_on_the_last_day_waits_for_the_next_month(
    clock, vips, agent, shop_a, supervisor, monkeypatch
):
    queued = []
    monkeypatch.setattr(plan_vip_follow_ups, "delay", lambda: queued.append("vip"))
    monkeypatch.setattr(finance_tasks, "sheets_pending", lambda *a, **k: False)
    # given November planned, a VIP added in the last minute of the 29th, and one at 00:00 on
    # the 30th (the last day, Beijing time)
    clock.set(at(NOV, "08:00:00"))
    assert plan_vip_follow_ups.apply().get() == 3
    eve = vip_add(actor=supervisor, shop=shop_a, buyer_nick="二十九日晚")
    last = vip_add(actor=supervisor, shop=shop_a, buyer_nick="最后一天")
    VipCustomer.objects.filter(pk=eve.pk).update(created_at=at(date(2026, 11, 29), "23:59:59"))
    VipCustomer.objects.filter(pk=last.pk).update(created_at=at(date(2026, 11, 30), "00:00:00"))
    # when the minutely check and the planning run on the last day
    clock.set(at(date(2026, 11, 30), "10:00:00"))
    assert finance_tasks.catch_up_if_due() is True
    assert plan_vip_follow_ups.apply().get() == 1
    # then the 29th's VIP is called in November, the last day's is not
    november = set(VipFollowUp.objects.filter(month=NOV).values_list("vip__buyer_nick", flat=True))
    assert "二十九日晚" in november and "最后一天" not in november
    # and the check does not queue the planning again every minute for it
    queued.clear()
    assert vip_follow_ups_pending(timezone.now()) is False
    assert finance_tasks.catch_up_if_due() is False
    assert queued == []
    # nor does a supervisor's button plan it for November
    assert vip_follow_ups_plan(actor=supervisor, month=NOV) == 0
    # when December is planned, the last day's VIP gets its first call
    clock.set(at(DEC, "08:00:00"))
    plan_vip_follow_ups.apply()
    assert VipFollowUp.objects.filter(vip=last, month=DEC).exists()
    assert not VipFollowUp.objects.filter(vip=last, month=NOV).exists()


def test_the_plan_button_says_why_the_last_days_vips_are_not_planned(
    client, clock, vips, agent, shop_a, shop_b, supervisor
):
    # given November planned, and on the 29th a VIP added and planned at the button
    clock.set(at(NOV, "08:00:00"))
    assert plan_vip_follow_ups.apply().get() == 3
    clock.set(at(date(2026, 11, 29), "15:00:00"))
    added = vip_add(actor=supervisor, shop=shop_a, buyer_nick="二十九日")
    VipCustomer.objects.filter(pk=added.pk).update(created_at=timezone.now())
    client.force_login(supervisor)
    page = client.post(reverse("registers:vip_plan"), follow=True).content.decode()
    assert "已生成本月回访任务 1 条。" in page and "从下月开始回访" not in page
    # when on the last day two VIPs are added in shop A, one in shop B, and one taken off
    clock.set(at(date(2026, 11, 30), "10:00:00"))
    today = [
        vip_add(actor=supervisor, shop=shop_a, buyer_nick="最后一天甲"),
        vip_add(actor=supervisor, shop=shop_a, buyer_nick="最后一天乙"),
        vip_add(actor=supervisor, shop=shop_b, buyer_nick="B店最后一天"),
        vip_add(actor=supervisor, shop=shop_a, buyer_nick="加了又停"),
    ]
    VipCustomer.objects.filter(pk__in=[v.pk for v in today]).update(created_at=timezone.now())
    VipCustomer.objects.filter(pk=today[-1].pk).update(is_active=False)
    # then the button creates nothing and says why, counting the VIPs the supervisor sees
    client.force_login(supervisor)  # a new day's session
    page = client.post(reverse("registers:vip_plan"), follow=True).content.decode()
    assert "已生成本月回访任务 0 条。 3 位今天加入的 VIP 从下月开始回访。" in page
    client.cookies["django_language"] = "en"
    page = client.post(reverse("registers:vip_plan"), follow=True).content.decode()
    assert "3 VIPs added today get their first call next month." in page
    del client.cookies["django_language"]
    # and a supervisor of shop A alone hears of shop A's two
    boss_a = make_user("boss-a", Role.SUPERVISOR, shops=[shop_a])
    client.force_login(boss_a)
    page = client.post(reverse("registers:vip_plan"), follow=True).content.decode()
    assert "已生成本月回访任务 0 条。 2 位今天加入的 VIP 从下月开始回访。" in page
    assert not VipFollowUp.objects.filter(month=NOV, vip__buyer_nick__contains="最后一天").exists()
    # and on December's 1st they are planned, with nothing left to explain
    clock.set(at(DEC, "09:00:00"))
    client.force_login(supervisor)
    page = client.post(reverse("registers:vip_plan"), follow=True).content.decode()
    assert "已生成本月回访任务 7 条。" in page and "从下月开始回访" not in page
    assert VipFollowUp.objects.filter(month=DEC, vip__buyer_nick="最后一天甲").exists()
