"""The team chat's group robots (issue 13 section 2), sent to a local HTTP receiver started
by the test: DingTalk's signature, the body without personal data, a retry after a failing
receiver, a timeout that never loses the desk's own notification."""

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.urls import reverse

from aftersales.celery import app
from aftersales.settings import BASE_DIR
from tests.factories import make_order, make_sku, make_ticket
from tickets import chat_urls
from tickets.models import ChatWebhook, Notification
from tickets.services.notifications import ChatRefused, ChatRetry, chat_send
from tickets.tasks import chat_retry_countdown
from tickets.tasks import chat_send as chat_send_task

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """An HTTP server in a thread that records every request and answers from ``replies``
    (status, body, delay in seconds, and optionally a dict: ``headers`` to add, ``drip``
    seconds between the bytes of the answer, ``drop`` to close the connection without an
    answer), the last one repeated. While it runs, ``DESK_CHAT_ALLOW_PRIVATE_URLS`` is on
    (it listens on 127.0.0.1) unless ``allow_private=False``."""

    def __init__(self, replies, *, allow_private=True):
        self.replies = list(replies)
        self.requests = []
        self.settings = override_settings(DESK_CHAT_ALLOW_PRIVATE_URLS=allow_private)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, body))
                status, answer, delay, *more = (
                    receiver.replies.pop(0) if len(receiver.replies) > 1 else receiver.replies[0]
                )
                extra = more[0] if more else {}
                time.sleep(delay)
                try:
                    if extra.get("drop"):
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if extra.get("drip"):
                        self.dripping(status, answer, extra["drip"])
                        return
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in extra.get("headers", {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the desk gave up waiting

            def dripping(self, status, answer, every):
                head = f"HTTP/1.1 {status} OK\r\nContent-Length: {len(answer)}\r\n\r\n"
                for byte in head.encode() + answer:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(every)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.settings.enable()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.settings.disable()
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


def hook_for(url, **fields):
    """A robot for "assigned" events of every shop, made as the seed makes them (no clean)."""
    fields = {"name": "群", "provider": "wecom", "kind": "assigned", **fields}
    return ChatWebhook.objects.create(url=url, **fields)


CARD = {"kind": "assigned", "ticket": "T1"}


def send_task(hook):
    """Runs the Celery task in this process as a worker would, except that a retry runs at
    once instead of after its countdown."""
    return chat_send_task.apply(args=(hook.pk, CARD))


def test_a_server_error_is_retried_and_delivered(agent, shop_a):
    with Receiver([(500, b"busy", 0), (429, b"slow down", 0), OK]) as r:
        hook = hook_for(r.url + "/send?key=a")
        result = send_task(hook)
    assert result.state == "SUCCESS" and result.get() is True
    assert len(r.requests) == 3  # HTTP 500, then 429, then accepted
    hook.refresh_from_db()
    assert hook.last_success_at is not None and hook.last_success_at == hook.last_attempt_at
    assert (hook.consecutive_failures, hook.last_error) == (0, "")


def test_a_rate_limit_errcode_is_retried(agent, shop_a):
    with Receiver([(200, b'{"errcode":130101,"errmsg":"send too fast"}', 0), OK]) as r:
        result = send_task(hook_for(r.url + "/send?access_token=a"))
    assert result.get() is True and len(r.requests) == 2


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ((400, b'{"errcode":400,"errmsg":"bad"}', 0), "HTTP 400"),
        ((404, b"no such robot", 0), "HTTP 404"),
        ((200, b'{"errcode":310000,"errmsg":"sign not match"}', 0), "errcode 310000"),
        ((200, b'{"errcode":300001,"errmsg":"token is not exist"}', 0), "errcode 300001"),
        ((200, b'{"errcode":93000,"errmsg":"invalid webhook url"}', 0), "errcode 93000"),
    ],
)
def test_a_refusal_is_recorded_and_not_retried(agent, shop_a, reply, error):
    with Receiver([reply]) as r:
        hook = hook_for(r.url + "/send?access_token=secret-token")
        result = send_task(hook)
    assert result.state == "SUCCESS" and result.get() is False
    assert len(r.requests) == 1  # tried once: a wrong token or signature stays wrong
    hook.refresh_from_db()
    assert hook.consecutive_failures == 1 and hook.last_error.startswith(error)
    assert hook.last_attempt_at is not None and hook.last_success_at is None
    assert "secret-token" not in hook.last_error and "127.0.0.1" not in hook.last_error


def test_a_dropped_connection_is_retried(agent, shop_a):
    # the server closes the connection without an answer: http.client's RemoteDisconnected
    with Receiver([(200, b"", 0, {"drop": True}), OK]) as r:
        hook = hook_for(r.url + "/k")
        result = send_task(hook)
    assert result.get() is True and len(r.requests) == 2
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0 and hook.last_success_at is not None


def test_a_robot_that_keeps_failing_is_given_up_and_shows_it(agent, shop_a, settings):
    with Receiver([(503, b"down", 0)]) as r:
        hook = hook_for(r.url + "/k")
        result = send_task(hook)
    attempts = 1 + chat_send_task.max_retries
    assert result.state == "FAILURE" and isinstance(result.result, ChatRetry)
    assert len(r.requests) == attempts == 1 + settings.DESK_CHAT_MAX_RETRIES
    hook.refresh_from_db()
    assert (hook.consecutive_failures, hook.last_error) == (attempts, "HTTP 503")


def test_the_retries_back_off_exponentially_with_jitter_over_half_an_hour(settings):
    settings.DESK_CHAT_RETRY_SECONDS = 60
    waits = [chat_retry_countdown(n) for n in range(chat_send_task.max_retries)]
    for n, wait in enumerate(waits):
        assert 0.75 * 60 * 2**n <= wait <= 1.25 * 60 * 2**n
    assert 20 * 60 <= sum(waits) <= 40 * 60  # 6 attempts over about 31 minutes
    # and the jitter spreads robots that failed together
    assert len({round(chat_retry_countdown(0), 3) for _ in range(20)}) > 1


def test_an_answer_dripped_beyond_the_deadline_is_cut_at_the_deadline(agent, shop_a, settings):
    # each byte comes well within the socket's timeout, the whole answer would take 10 s
    settings.DESK_CHAT_TIMEOUT_SECONDS = 1
    with Receiver([(200, b'{"errcode":0}', 0, {"drip": 0.3})]) as r:
        hook = hook_for(r.url + "/k")
        started = time.monotonic()
        with pytest.raises(ChatRetry):
            chat_send(webhook_id=hook.pk, card=CARD)
        took = time.monotonic() - started
    assert took < 2.0
    hook.refresh_from_db()
    assert hook.last_error == "deadline exceeded" and hook.consecutive_failures == 1


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
        with pytest.raises(ChatRetry):
            chat_send(webhook_id=hook.pk, card={"kind": "escalation_raised", "ticket": "T1"})
        assert time.monotonic() - started < 2.5
    assert Notification.objects.filter(recipient=supervisor, kind="escalation_raised").count() == 1


def test_a_redirect_is_not_followed(agent, shop_a):
    moved = {"headers": {"Location": "/elsewhere"}}
    with Receiver([OK]) as elsewhere, Receiver([(302, b"", 0, moved)]) as r:
        moved["headers"]["Location"] = elsewhere.url + "/x"
        hook = hook_for(r.url + "/k")
        result = send_task(hook)
    assert result.get() is False
    assert len(r.requests) == 1 and elsewhere.requests == []
    hook.refresh_from_db()
    assert hook.consecutive_failures == 1 and "redirect" in hook.last_error


# --- where a robot may be -----------------------------------------------------------------
PUBLIC = "106.11.23.1"  # what the tests' DNS says oapi.dingtalk.com is
NAMES = {
    "oapi.dingtalk.com": [PUBLIC],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": [PUBLIC, "10.0.0.8"],
    "rebinding.example.com": [PUBLIC],
    "localhost": ["127.0.0.1", "::1"],
}


@pytest.fixture
def dns(monkeypatch):
    """Resolves the names in ``NAMES`` without a network (an IP address resolves to
    itself); the test may change ``NAMES`` meanwhile through the returned dict."""
    names = {k: list(v) for k, v in NAMES.items()}
    real = chat_urls.host_addresses

    def resolve(host, port):
        if host in names:
            return names[host]
        return real(host, port) if host[:1].isdigit() or ":" in host else []

    monkeypatch.setattr(chat_urls, "host_addresses", resolve)
    return names


def robot_form(url, **more):
    return {
        "name": "钉钉群",
        "provider": "dingtalk",
        "shop": "",
        "kind": "sheet_failed",
        "url": url,
        "secret": "",
        "is_active": "on",
        **more,
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://127.0.0.1/robot/send", "内网"),
        ("https://localhost/robot/send", "内网"),
        ("https://169.254.169.254/latest/meta-data/", "内网"),
        ("https://metadata.example.com/robot/send", "内网"),
        ("https://10.1.2.3/robot/send", "内网"),
        ("https://192.168.1.10/robot/send", "内网"),
        ("https://[::1]/robot/send", "内网"),
        ("https://[::ffff:127.0.0.1]/robot/send", "内网"),
        ("https://mixed.example.com/robot/send", "内网"),  # one private address is enough
        ("https://user:pass@oapi.dingtalk.com/robot/send?access_token=t", "用户名或密码"),
        ("http://oapi.dingtalk.com/robot/send?access_token=t", "https://"),
        ("ftp://oapi.dingtalk.com/robot/send", "https://"),
    ],
)
def test_the_admin_refuses_a_robot_url_that_is_not_public_https(admin_client, dns, url, message):
    response = admin_client.post(reverse("admin:tickets_chatwebhook_add"), robot_form(url))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ChatWebhook.objects.exists()


def test_the_admin_says_why_in_english_too(admin_client, dns):
    admin_client.cookies["django_language"] = "en"
    response = admin_client.post(
        reverse("admin:tickets_chatwebhook_add"),
        robot_form("https://169.254.169.254/latest/meta-data/"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "loopback, private, link-local or reserved" in response.content.decode()
    assert not ChatWebhook.objects.exists()


def test_the_admin_accepts_a_public_https_robot(admin_client, dns):
    url = "https://oapi.dingtalk.com/robot/send?access_token=t"
    response = admin_client.post(reverse("admin:tickets_chatwebhook_add"), robot_form(url))
    assert response.status_code == 302
    assert ChatWebhook.objects.get().url == url


def test_the_setting_lets_a_local_robot_in_but_never_credentials(admin_client, settings):
    settings.DESK_CHAT_ALLOW_PRIVATE_URLS = True
    add = reverse("admin:tickets_chatwebhook_add")
    assert admin_client.post(add, robot_form("http://127.0.0.1:8080/k")).status_code == 302
    response = admin_client.post(add, robot_form("http://u:p@127.0.0.1:8080/k"))
    assert response.status_code == 200 and "用户名或密码" in response.content.decode()
    assert ChatWebhook.objects.count() == 1


def test_a_private_robot_is_refused_at_send_time_without_sending(agent, shop_a):
    # a robot saved while the setting was on (or written around the admin)
    with Receiver([OK], allow_private=False) as r:
        hook = hook_for(r.url + "/k")
        result = send_task(hook)
    assert result.get() is False and r.requests == []
    hook.refresh_from_db()
    assert hook.consecutive_failures == 1 and hook.last_error == "not https"


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/robot/send",  # 127.0.0.1 written as one number
        "https://0x7f.1/robot/send",
        "https://[::ffff:169.254.169.254]/latest/meta-data/",
        "https://metadata.example.com/robot/send",
        "https://user:pass@oapi.dingtalk.com/robot/send",
    ],
)
def test_a_robot_written_around_the_admin_is_refused_at_send_time(agent, shop_a, dns, url):
    hook = hook_for(url)
    with pytest.raises(ChatRefused):
        chat_send(webhook_id=hook.pk, card=CARD)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 1 and hook.last_error in (
        "address not public",
        "user name or password in URL",
    )


def test_a_name_that_resolves_elsewhere_after_saving_is_refused(agent, shop_a, dns, monkeypatch):
    hook = hook_for("https://rebinding.example.com/robot/send?access_token=t")
    hook.full_clean()  # public when saved
    dns["rebinding.example.com"] = ["169.254.169.254"]
    connections = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a) or 1 / 0)
    with pytest.raises(ChatRefused):
        chat_send(webhook_id=hook.pk, card=CARD)
    assert connections == []  # nothing was sent anywhere
    hook.refresh_from_db()
    assert hook.last_error == "address not public" and hook.consecutive_failures == 1


def test_a_name_server_that_never_answers_ends_the_attempt_at_its_deadline(
    agent, shop_a, dns, monkeypatch, settings
):
    """The system resolver has no timeout of its own: a DNS server that does not answer held
    the chat worker 30 s and more. The lookup counts against the attempt's deadline, and a
    name not resolved in time is retried later (transient), the robot's error saying so."""
    settings.DESK_CHAT_TIMEOUT_SECONDS = 1
    released = threading.Event()

    def hangs(host, port):
        released.wait(10)
        return [PUBLIC]

    monkeypatch.setattr(chat_urls, "host_addresses", hangs)
    hook = hook_for("https://oapi.dingtalk.com/robot/send?access_token=t")
    started = time.monotonic()
    try:
        with pytest.raises(ChatRetry):
            chat_send(webhook_id=hook.pk, card=CARD)
        assert time.monotonic() - started < 2.0
    finally:
        released.set()
    hook.refresh_from_db()
    assert hook.last_error == "host name not resolved in time"
    assert hook.consecutive_failures == 1


def test_the_checked_address_is_the_one_connected_to(agent, shop_a, dns, monkeypatch):
    # the name is resolved once, checked, and that address is connected to (TLS still
    # checks the certificate against the name)
    hook = hook_for("https://oapi.dingtalk.com/robot/send?access_token=t")
    connections = []

    def refuse(address, timeout=None, *args):
        connections.append((address, timeout))
        raise ConnectionRefusedError

    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.raises(ChatRetry):
        chat_send(webhook_id=hook.pk, card=CARD)
    assert connections[0][0] == (PUBLIC, 443) and 0 < connections[0][1] <= 10
    hook.refresh_from_db()
    assert hook.last_error == "network error: ConnectionRefusedError"


# --- what an administrator sees -------------------------------------------------------------
def test_the_admin_shows_a_failing_robot(admin_client, agent, shop_a):
    with Receiver([(500, b"busy", 0)]) as r:
        hook = hook_for(r.url + "/k?key=never-shown")
        for _ in range(2):
            with pytest.raises(ChatRetry):
                chat_send(webhook_id=hook.pk, card=CARD)
    healthy = hook_for("https://oapi.dingtalk.com/robot/send?access_token=t", name="好群")
    listing = admin_client.get(reverse("admin:tickets_chatwebhook_changelist")).content.decode()
    assert "发送失败（连续失败 2 次）" in listing and "HTTP 500" in listing
    assert "尚未发送" in listing  # the healthy one has not been tried
    assert "never-shown" not in listing
    # the form shows the state read-only: posting it changes nothing
    change = reverse("admin:tickets_chatwebhook_change", args=[hook.pk])
    page = admin_client.get(change).content.decode()
    assert "发送失败（连续失败 2 次）" in page and 'name="last_error"' not in page
    assert 'name="consecutive_failures"' not in page
    hook.refresh_from_db()
    data = robot_form(hook.url, name="群", provider="wecom", kind="assigned")
    with override_settings(DESK_CHAT_ALLOW_PRIVATE_URLS=True):
        answer = admin_client.post(change, {**data, "last_error": "", "consecutive_failures": "0"})
    assert answer.status_code == 302
    hook.refresh_from_db()
    assert (hook.consecutive_failures, hook.last_error) == (2, "HTTP 500")
    assert healthy.consecutive_failures == 0


# --- where the task runs ----------------------------------------------------------------------
def test_the_chat_task_has_its_own_queue_which_every_worker_consumes():
    route = app.amqp.router.route({}, chat_send_task.name, args=(1, {}), kwargs={})
    assert route["queue"].name == "chat"
    # sheets and imports stay on the default queue
    other = app.amqp.router.route({}, "finance_exports.tasks.catch_up_if_due", args=(), kwargs={})
    assert other["queue"].name == app.conf.task_default_queue != "chat"
    worker = next(
        line
        for line in (BASE_DIR / "Procfile").read_text().splitlines()
        if line.startswith("worker:")
    )
    queues = worker.split(" -Q ", 1)[1].split()[0].split(",")
    assert set(queues) == {"chat", app.conf.task_default_queue}


def test_the_chat_task_cannot_hold_a_worker_for_long(settings):
    assert chat_send_task.soft_time_limit < chat_send_task.time_limit <= 60
    assert chat_send_task.soft_time_limit > settings.DESK_CHAT_TIMEOUT_SECONDS


def test_the_secret_is_never_shown_back_in_the_admin(admin_client, dns):
    url = reverse("admin:tickets_chatwebhook_add")
    data = robot_form(
        "https://oapi.dingtalk.com/robot/send?access_token=t", secret="SECtop-secret-value"
    )
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


# --- what a production alert says ---------------------------------------------------------
def test_a_production_alert_carries_no_typed_batch(
    client, agent, supervisor, shop_a, settings, eager
):
    # given a robot for production alerts, and complaints whose typed batch quotes a buyer
    settings.DESK_QUALITY_ALERT_COUNT = 2
    sku = make_sku()
    client.force_login(agent)
    data = {
        "shop": shop_a.pk,
        "sku": sku.code,
        "batch": "张三13812345678",
        "problem_type": "fabric",
    }
    with Receiver([OK]) as receiver:
        ChatWebhook.objects.create(
            name="品质群", provider="wecom", kind="production_alert", url=receiver.url + "/k"
        )
        for _ in range(2):
            client.post(reverse("registers:quality_new"), data)
        assert len(receiver.requests) == 1
    content = json.loads(receiver.requests[0][1])["text"]["content"]
    assert sku.code in content and "2 起投诉" in content and shop_a.name in content
    assert "13812345678" not in content and "张三" not in content
    note = Notification.objects.get(recipient=supervisor, kind="production_alert")
    assert note.params == {"sku": sku.code, "n": 2}
    assert sku.code in note.message and "13812345678" not in note.message


def test_the_chat_hears_an_event_no_bell_rings_for(client, shop_a, eager):
    """The only supervisor of a shop escalates one of its tickets: nobody's bell rings (no one
    is told of their own action), but the shop's robot for escalations still hears it."""
    from tests.factories import make_user
    from tickets.roles import Role

    boss = make_user("only-boss", Role.SUPERVISOR, shops=[shop_a])
    ticket = make_ticket(make_order(shop_a), boss, assignee=boss)
    client.force_login(boss)
    with Receiver([OK]) as receiver:
        ChatWebhook.objects.create(
            name="售后群",
            provider="wecom",
            kind="escalation_raised",
            shop=shop_a,
            url=receiver.url + "/k",
        )
        response = client.post(
            reverse("tickets:ticket_escalate", args=[ticket.pk]), {"reason": "要全额退款"}
        )
        assert response.status_code == 302
        assert len(receiver.requests) == 1
    assert not Notification.objects.filter(kind="escalation_raised").exists()
    content = json.loads(receiver.requests[0][1])["text"]["content"]
    assert ticket.number in content and "要全额退款" not in content
