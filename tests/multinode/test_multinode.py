"""Two web nodes and two workers on four "machines" (network namespaces), one desk.

Nothing is shared between the nodes but PostgreSQL, Redis and the object store (S3, moto's
server), reached over each namespace's link: no folder, no process. Through the doors people
use (the login page, the ticket page's photo form, the finance page's download) and the task
beat sends:

- a photo the agent uploads through web1 is shown by web2;
- the 16:00 finance sheet is taken by worker1, which is killed (SIGKILL, the whole machine's
  worker) while it writes the file; worker2, in its own namespace, finishes it (its start-up
  catch-up, waiting for the row worker1 held) and also gets worker1's task back and runs it
  (acks late, the broker's visibility timeout: ``CELERY_VISIBILITY_TIMEOUT``); the sheet is
  downloaded through web1 by finance, and there is exactly one sheet of that date with
  exactly one file in the store.

Run alone: ``pytest -m multinode`` (PostgreSQL and Redis configured; as root for namespaces,
otherwise the nodes run as processes on 127.0.0.1 and the test says so).
"""

from __future__ import annotations

import io
import re
import time
from datetime import date

import pytest

from .conftest import BUCKET, VISIBILITY_SECONDS
from .harness import wait_for

pytestmark = [pytest.mark.multinode]

# Beat's 16:00 entry for the finance sheet, sent as beat sends it (finance_exports.tasks).
FINANCE_TASK = "finance_exports.tasks.build_due_sheets"


def _session(node, username: str, password: str):
    """A browser's session on ``node``, logged in through the login page (its CSRF token)."""
    import requests

    session = requests.Session()
    page = session.get(f"{node.url}/login/", timeout=10)
    token = _csrf(page.text)
    answer = session.post(
        f"{node.url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{node.url}/login/"},
        timeout=20,
    )
    assert answer.status_code == 200 and "/login/" not in answer.url, answer.text[-2000:]
    return session


def _moved_to(session, node) -> None:
    """The load balancer sends the same browser to ``node``: its cookies (the session, the
    CSRF token) go there too (requests keeps them per address)."""
    for cookie in list(session.cookies):
        session.cookies.set(cookie.name, cookie.value, domain=node.link.address, path=cookie.path)


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _png() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 60))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _query(cluster, sql: str, params=()):
    import psycopg

    with psycopg.connect(cluster.database_url) as connection:
        return connection.execute(sql, params).fetchall()


def _finance_sheets(cluster) -> list[tuple]:
    return _query(
        cluster,
        "SELECT id, business_date, status, claimed_at IS NOT NULL, file FROM finance_exports_sheet"
        " WHERE kind = 'finance' ORDER BY business_date",
    )


def test_two_web_nodes_and_two_workers_share_only_the_database_redis_and_the_store(
    desk_cluster,
):
    cluster = desk_cluster
    web1, web2 = cluster.nodes["web1"], cluster.nodes["web2"]
    print(f"nodes: {web1.describe()}; {web2.describe()}")

    # --- a photo uploaded through web1 is shown by web2 ----------------------------------
    agent = _session(web1, "agent", cluster.password)
    listing = agent.get(f"{web1.url}/tickets/", timeout=20)
    ticket_id = re.search(r'href="/tickets/(\d+)/"', listing.text).group(1)
    page = agent.get(f"{web1.url}/tickets/{ticket_id}/", timeout=20)
    photo = _png()
    uploaded = agent.post(
        f"{web1.url}/tickets/{ticket_id}/photos/",
        data={"csrfmiddlewaretoken": _csrf(page.text)},
        files={"photo": ("parcel.png", photo, "image/png")},
        headers={"Referer": f"{web1.url}/tickets/{ticket_id}/"},
        timeout=30,
    )
    assert uploaded.status_code == 200, uploaded.text[-2000:]
    # the same browser, sent to the other node by the load balancer
    _moved_to(agent, web2)
    on_web2 = agent.get(f"{web2.url}/tickets/{ticket_id}/", timeout=20)
    [photo_path] = set(re.findall(rf"/tickets/{ticket_id}/photos/\d+/", on_web2.text))
    shown = agent.get(f"{web2.url}{photo_path}", timeout=20)
    assert shown.status_code == 200
    assert shown.content == agent.get(f"{web1.url}{photo_path}", timeout=20).content
    assert shown.content[:8] == b"\x89PNG\r\n\x1a\n" or shown.content[:3] == b"\xff\xd8\xff"
    # it is in the object store, and on neither node's disk
    assert [key for key in cluster.bucket_keys() if "photo" in key.lower()], cluster.bucket_keys()
    for node in (web1, web2):
        on_disk = [p for p in node.var_dir.rglob("*") if p.is_file() and "photo" in str(p)]
        assert on_disk == [], on_disk

    # --- the 16:00 sheet: worker1 takes it and dies mid-build, worker2 finishes it ---------
    from aftersales.celery import app
    from finance_exports.tasks import beat_schedule

    scheduled = beat_schedule()["sheet-finance"]
    assert scheduled["task"] == FINANCE_TASK
    built_before = {row[1] for row in _finance_sheets(cluster)}
    due_day = date.fromisoformat(cluster.demo_today)
    assert due_day not in built_before

    cluster.gates["worker1"].close()  # the store hangs for worker1: it stops mid-write
    task_id = app.send_task(scheduled["task"], kwargs=scheduled["kwargs"]).id
    worker1 = cluster.start_worker("worker1")
    wait_for(
        lambda: (
            cluster.gates["worker1"].held.is_set()
            and any(row[1] == due_day and row[3] for row in _finance_sheets(cluster))
        ),
        timeout=90,
        what="worker1 to claim the sheet's rows and start writing its file",
    )
    taken_at = time.monotonic()
    worker2 = cluster.start_worker("worker2")
    cluster.wait_worker_ready(worker2)
    # worker2 runs what the workers' start-up queued: the catch-up check finds the sheet
    # missing and its build waits for the sheet's row, which worker1 holds while it writes
    [(sheet_id, _day, status, _claimed, _file)] = [
        row for row in _finance_sheets(cluster) if row[1] == due_day
    ]
    assert status == "building", "worker2 must not have finished a sheet worker1 holds"
    worker1.kill()
    assert time.monotonic() - taken_at < VISIBILITY_SECONDS, (
        "worker2 took longer to start than the visibility timeout: the task would have gone "
        "back to the queue while worker1 still held it"
    )
    print(f"worker1 killed {time.monotonic() - taken_at:.1f} s after it took the sheet")

    # worker1's connections die with it, PostgreSQL rolls its transaction back and frees the
    # row: worker2's waiting build (the catch-up) finishes the sheet at once, and the task
    # worker1 held comes back after the visibility timeout and finds it built. Either way, one
    # sheet and one file.
    def ready():
        rows = [row for row in _finance_sheets(cluster) if row[1] == due_day]
        return rows if rows and rows[0][2] == "ready" else None

    [(sheet_id_after, _day, _status, _claimed, file_name)] = wait_for(
        ready, timeout=VISIBILITY_SECONDS + 60, what="worker2 to finish the sheet worker1 left"
    )
    assert sheet_id_after == sheet_id
    # the task worker1 took was given back to the queue and run to its end by worker2
    redelivered = wait_for(
        lambda: f"{FINANCE_TASK}[{task_id}] succeeded" in worker2.log_text(),
        timeout=VISIBILITY_SECONDS + 30,
        what="worker2 to run the task worker1 took",
    )
    assert redelivered and f"[{task_id}] received" in worker1.log_text()
    print(f"worker2 ran task {task_id} {time.monotonic() - taken_at:.1f} s after worker1 took it")
    assert f"finance-{due_day:%Y%m%d}" in file_name
    # worker2 wrote it (the service logs "<kind> <date> is ready: <n> rows"), worker1 did not
    assert f"{due_day:%Y-%m-%d} is ready" in worker2.log_text()
    assert f"{due_day:%Y-%m-%d} is ready" not in worker1.log_text()
    stem = f"finance-{due_day:%Y%m%d}"
    assert sum(stem in key for key in cluster.bucket_keys()) == 1, cluster.bucket_keys()
    assert _query(
        cluster,
        "SELECT count(*) FROM finance_exports_sheet WHERE kind = 'finance' AND business_date = %s",
        [due_day],
    ) == [(1,)]
    assert not list((worker1.var_dir).rglob("*.xlsx")) and not list(worker2.var_dir.rglob("*.xlsx"))

    # --- finance downloads it through web1 ----------------------------------------------
    finance = _session(web1, "finance", cluster.password)
    download = finance.get(f"{web1.url}/finance/sheets/{sheet_id}/download/", timeout=30)
    assert download.status_code == 200, download.text[-2000:]
    stored = cluster.s3.get_object(
        Bucket=BUCKET, Key=next(key for key in cluster.bucket_keys() if stem in key)
    )["Body"].read()
    assert download.content == stored
    assert download.content[:2] == b"PK"  # an xlsx (zip)
