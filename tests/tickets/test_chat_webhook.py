"""The team chat's group robots (issue 13 section 2), sent to a local HTTP receiver started
by the test: DingTalk's signature, the body without personal data, a retry after a failing
receiver, a timeout that never loses the desk's own notification."""

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from aftersales.celery import app
from tests.factories import make_order, make_ticket
from tickets.models import ChatWebhook, Notification
from tickets.services.notifications import ChatSendError, chat_send
from tickets.tasks import chat_send as chat_send_task

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """An HTTP server in a thread that records every request and answers from ``replies``
    (status, body, delay in seconds), the last one repeated."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, body))
                status, answer, delay = (
                    receiver.replies.pop(0) if len(receiver.replies) > 1 else receiver.replies[0]
                )
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the desk gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


OK = (200, b'{"errcode":0,"errmsg":"ok"}', 0)


@pytest.fixture
def eager():
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def test_dingtalk_is_signed_and_the_body_has_no_personal_data(
    client, agent, supervisor, shop_a, eager
):
    # given a DingTalk robot with a secret for escalations of the shop
    order = make_order(shop_a)
    ticket = make_ticket(order, agent, assignee=agent)
    with Receiver([OK]) as receiver:
        ChatWebhook.objects.create(
            name="售后群",
            provider="dingtalk",
            shop=shop_a,
            kind="escalation_raised",
            url=receiver.url + "/robot/send?access_token=abc",
            secret="SEC123secret",
        )
        # when the agent escalates with the buyer's phone in the reason
        client.force_login(agent)
        before = time.time() * 1000
        client.post(
            reverse("tickets:ticket_escalate", args=[ticket.pk]),
            {"reason": "买家张三 13812345678 解放大道 1 号 要求全额退款"},
        )
        # then one signed message arrived after the commit
        assert len(receiver.requests) == 1
    path, body = receiver.requests[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    assert query["access_token"] == ["abc"]
    stamp = query["timestamp"][0]
    assert before - 1000 <= int(stamp) <= time.time() * 1000
    expected = base64.b64encode(
        hmac.new(b"SEC123secret", f"{stamp}\nSEC123secret".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]  # parse_qs undid the URL encoding
    content = json.loads(body)["text"]["content"]
    assert json.loads(body)["msgtype"] == "text"
    assert ticket.number in content and shop_a.name in content and str(agent) in content
    for personal in ("13812345678", "张三", "解放大道", order.buyer_nick, "全额退款"):
        assert personal not in content
    # and the supervisor's bell has it too
    assert Notification.objects.filter(recipient=supervisor, kind="escalation_raised").exists()


def test_wecom_is_a_plain_key_url(agent, shop_a, eager):
    ticket = make_ticket(make_order(shop_a), agent)
    with Receiver([OK]) as receiver:
        hook = ChatWebhook.objects.create(
            name="企业微信群",
            provider="wecom",
            kind="assigned",
            url=receiver.url + "/cgi-bin/webhook/send?key=k-1",
            secret="ignored",
        )
        assert chat_send(webhook_id=hook.pk, card={"kind": "assigned", "ticket": ticket.number})
    path, body = receiver.requests[0]
    assert path == "/cgi-bin/webhook/send?key=k-1"
    assert ticket.number in json.loads(body)["text"]["content"]


def test_a_failing_receiver_is_retried(agent, shop_a, settings):
    # the task's policy: refusals and network errors retried with exponential backoff
    assert set(chat_send_task.autoretry_for) == {ChatSendError, OSError}
    assert (
        chat_send_task.retry_backoff
        and chat_send_task.max_retries == settings.DESK_CHAT_MAX_RETRIES
    )
    with Receiver([(500, b"busy", 0), (200, b'{"errcode":310000,"errmsg":"x"}', 0), OK]) as r:
        hook = ChatWebhook.objects.create(
            name="群", provider="dingtalk", kind="assigned", url=r.url + "/send?access_token=a"
        )
        # run in this process, the task retries at once (a worker waits the backoff first)
        result = chat_send_task.apply(args=(hook.pk, {"kind": "assigned", "ticket": "T1"}))
    assert result.state == "SUCCESS" and result.get() is True
    assert len(r.requests) == 3  # HTTP 500, then errcode ≠ 0, then accepted


def test_a_timeout_never_loses_the_desk_notification(client, agent, supervisor, shop_a, settings):
    settings.DESK_CHAT_TIMEOUT_SECONDS = 1
    ticket = make_ticket(make_order(shop_a), agent, assignee=agent)
    with Receiver([(200, b"{}", 3)]) as receiver:
        hook = ChatWebhook.objects.create(
            name="慢群", provider="wecom", kind="escalation_raised", url=receiver.url + "/k"
        )
        client.force_login(agent)
        client.post(reverse("tickets:ticket_escalate", args=[ticket.pk]), {"reason": "要主管定"})
        # the request returned without sending (the task is queued, not run in the request)
        assert receiver.requests == []
        started = time.monotonic()
        with pytest.raises(OSError):
            chat_send(webhook_id=hook.pk, card={"kind": "escalation_raised", "ticket": "T1"})
        assert time.monotonic() - started < 2.5
    assert Notification.objects.filter(recipient=supervisor, kind="escalation_raised").count() == 1


def test_the_secret_is_never_shown_back_in_the_admin(admin_client):
    url = reverse("admin:tickets_chatwebhook_add")
    data = {
        "name": "钉钉群",
        "provider": "dingtalk",
        "shop": "",
        "kind": "sheet_failed",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=t",
        "secret": "SECtop-secret-value",
        "is_active": "on",
    }
    assert admin_client.post(url, data).status_code == 302
    hook = ChatWebhook.objects.get()
    assert hook.secret == "SECtop-secret-value"
    change = reverse("admin:tickets_chatwebhook_change", args=[hook.pk])
    assert "SECtop-secret-value" not in admin_client.get(change).content.decode()
    # saved again with the field left empty: the secret stays
    admin_client.post(change, {**data, "secret": "", "name": "钉钉群 2"})
    hook.refresh_from_db()
    assert hook.secret == "SECtop-secret-value" and hook.name == "钉钉群 2"
    assert "SECtop-secret-value" not in admin_client.get(change).content.decode()
