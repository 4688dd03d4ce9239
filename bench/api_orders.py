"""Time and peak memory of one batch of orders with their items through the API, beside the CSV
order import of the same records, on PostgreSQL (issue 16).

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_bench \\
        .venv/bin/python bench/api_orders.py [--orders 10000] [--runs 3]

Makes ``--orders`` orders with 1.5 items each on average (10,000 orders: 15,000 items) as the
API's JSON batch and as the seller centre's two export files (GBK) holding the same records.
Each run is a child process of its own (so its peak memory, ru_maxrss, is its own) that
imports into a fresh shop: "api" POSTs the batch to ``/api/v1/orders/batches/`` through
Django's whole request path (middleware, token, JSON parsing, the import, the answer), "csv"
runs ``import_files`` on the two files; then each sends the same records again (everything
unchanged). The doors alternate (api, csv, api, csv ...) so a busy machine weighs on both
alike. Prints every run, the medians and the load average. The database must be migrated.
"""

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLACES = [
    ("湖北省", "武汉市", "江汉区"), ("上海", "上海市", "浦东新区"), ("江苏省", "苏州市", "姑苏区"),
    ("浙江省", "杭州市", "余杭区"), ("广东省", "深圳市", "南山区"), ("四川省", "成都市", "武侯区"),
]  # fmt: skip
STATUSES = ["交易成功"] * 6 + ["卖家已发货，等待买家确认"] * 3 + ["买家已付款，等待卖家发货"]
PRODUCTS = [("纯棉宽松T恤", "99.00", "TS1001"), ("直筒牛仔裤", "159.00", "JN2001"),
            ("连帽卫衣", "199.00", "HD3001"), ("棉袜三双装", "19.90", "SK4001")]  # fmt: skip
COURIERS = ["中通快递", "圆通速递", "韵达快递", "申通快递"]
# The API's field -> the order export's header (56-column layout, the columns used here).
ORDER_HEADERS = {
    "order_no": "订单编号",
    "buyer_nick": "买家会员名",
    "buyer_alipay_account": "买家支付宝账号",
    "goods_amount": "买家应付货款",
    "postage": "买家应付邮费",
    "total_amount": "总金额",
    "paid_amount": "买家实际支付金额",
    "status": "订单状态",
    "receiver_name": "收货人姓名",
    "address": "收货地址",
    "mobile": "联系手机",
    "placed_at": "订单创建时间",
    "paid_at": "订单付款时间",
    "tracking_no": "物流单号",
    "courier": "物流公司",
    "shipped_at": "发货时间",
    "alipay_no": "支付宝交易号",
}
ITEM_HEADERS = {
    "order_no": "订单编号",
    "title": "标题",
    "unit_price": "价格",
    "quantity": "购买数量",
    "sku_outer_id": "外部系统编号",
    "attributes": "商品属性",
    "item_code": "商家编码",
}


def records(orders: int, seed: int = 16) -> list[dict]:
    """The batch's order records, items inside (every other order has two)."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    start = datetime(2026, 3, 1, 8, 0, 0, tzinfo=SHANGHAI)
    out = []
    for n in range(orders):
        number = str(3_516_000_000_000_000_000 + n * 7919)
        placed = start + timedelta(seconds=n * 7)
        lines = [rng.choice(PRODUCTS) for _ in range(1 if n % 2 else 2)]
        goods = sum(float(price) for _t, price, _c in lines)
        province, city, district = rng.choice(PLACES)
        status = rng.choice(STATUSES)
        shipped = "已发货" in status or status == "交易成功"
        out.append(
            {
                "order_no": number,
                "buyer_nick": f"买家{n % 5000}号",
                "buyer_alipay_account": "buyer***@163.com",
                "goods_amount": f"{goods:.2f}",
                "postage": "0.00",
                "total_amount": f"{goods:.2f}",
                "paid_amount": f"{goods:.2f}",
                "status": status,
                "receiver_name": "张三",
                "address": f"{province} {city} {district} 解放大道{n % 999}号(430{n % 999:03d})",
                "mobile": f"139{n:08d}",
                "placed_at": f"{placed:%Y-%m-%d %H:%M:%S}",
                "paid_at": f"{placed + timedelta(minutes=2):%Y-%m-%d %H:%M:%S}",
                "tracking_no": f"ZT{n:012d}" if shipped else "",
                "courier": rng.choice(COURIERS),
                "shipped_at": f"{placed + timedelta(hours=20):%Y-%m-%d %H:%M:%S}"
                if shipped
                else "",
                "alipay_no": f"2026{n:020d}",
                "items": [
                    {
                        "title": title,
                        "unit_price": price,
                        "quantity": "1",
                        "sku_outer_id": f"{code}-BK-L",
                        "attributes": "颜色分类:黑色;尺码:L",
                        "item_code": code,
                    }
                    for title, price, code in lines
                ],
            }
        )
    return out


def write_inputs(folder: Path, orders: int) -> tuple[Path, Path, Path, int]:
    """The JSON batch body (shop code filled in by the run) and the two export files."""
    batch = records(orders)
    body_path = folder / "batch.json"
    body_path.write_text(json.dumps({"orders": batch}, ensure_ascii=False), encoding="utf-8")
    order_path, item_path = folder / "ExportOrderList.csv", folder / "ExportOrderDetailList.csv"
    item_rows = 0
    with (
        order_path.open("w", encoding="gbk", newline="") as o,
        item_path.open("w", encoding="gbk", newline="") as i,
    ):
        orders_out, items_out = csv.writer(o), csv.writer(i)
        orders_out.writerow(ORDER_HEADERS.values())
        items_out.writerow(ITEM_HEADERS.values())
        for record in batch:
            orders_out.writerow([record[field] for field in ORDER_HEADERS])
            for item in record["items"]:
                item = {**item, "order_no": record["order_no"]}
                items_out.writerow([item[field] for field in ITEM_HEADERS])
                item_rows += 1
    return body_path, order_path, item_path, item_rows


def _shop(code: str):
    from tickets.models import Shop

    return Shop.objects.create(code=code, name=f"基准店{code}", kind="c_store", location="wuhan")


def run_api(body_path: Path, code: str) -> dict:
    """In a child process: the batch through the API, then the same batch again."""
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no SQL kept per query, as in production
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from django.test import Client

    from api.scopes import Scope
    from api.tokens import token_issue
    from tickets.models import User
    from tickets.roles import Role

    shop = _shop(code)
    root = User.objects.create(username=f"{code}-root", is_superuser=True, is_staff=True)
    erp = User.objects.create(username=f"{code}-erp")
    from django.contrib.auth.models import Group

    erp.groups.add(Group.objects.get(name=Role.AGENT))
    erp.shops.add(shop)
    raw = token_issue(
        actor=root, name="bench", user=erp, scopes=[Scope.ORDERS_WRITE], shops=[shop]
    ).raw
    body = body_path.read_bytes().replace(b'{"orders"', f'{{"shop":"{code}","orders"'.encode(), 1)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    # A web process has loaded its URLs, middleware and views before the batch comes.
    if client.get("/api/v1/token/").status_code != 200:
        raise SystemExit("the benchmark's token was refused")
    baseline = rss_mb()
    result = {"body_mb": round(len(body) / 1e6, 1)}
    for label in ("import", "reimport"):
        started = time.perf_counter()
        response = client.post("/api/v1/orders/batches/", body, content_type="application/json")
        result[label] = round(time.perf_counter() - started, 2)
        if response.status_code != 200:
            raise SystemExit(response.content[:2000].decode())
        result[f"{label}_counts"] = {
            k: v for k, v in response.json()["counts"].items() if k != "refunds"
        }
    result["baseline_rss_mb"] = round(baseline, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def run_csv(order_path: Path, item_path: Path, code: str) -> dict:
    """In a child process: the two export files through the CSV import, then again."""
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    from tickets.imports.run import Upload, import_files

    shop = _shop(code)
    baseline = rss_mb()
    result = {}
    for label in ("import", "reimport"):
        with order_path.open("rb") as o, item_path.open("rb") as i:
            started = time.perf_counter()
            report = import_files(
                shop=shop, uploads=[Upload("orders", o.name, o), Upload("items", i.name, i)]
            )
            result[label] = round(time.perf_counter() - started, 2)
        if not report.applied:
            raise SystemExit("\n".join(report.lines()[:5]))
        result[f"{label}_counts"] = {k: report.counted(k) for k in ("orders", "items")}
    result["baseline_rss_mb"] = round(baseline, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def clean_up(code: str) -> None:
    """Removes what a run wrote (the API's call and batch records are append-only for the
    desk; the benchmark's own are deleted with SQL)."""
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tickets_shop WHERE code = %s", [code])
        row = cursor.fetchone()
        if row is None:
            return
        shop_id = row[0]
        cursor.execute(
            "SELECT id FROM api_apitoken WHERE user_id IN "
            "(SELECT id FROM tickets_user WHERE username LIKE %s)",
            [f"{code}-%"],
        )
        tokens = [r[0] for r in cursor.fetchall()]
        for table in ("api_apicall", "api_apibatch"):
            cursor.execute(f"DELETE FROM {table} WHERE token_id = ANY(%s)", [tokens])  # noqa: S608
        cursor.execute("DELETE FROM api_apitoken_shops WHERE apitoken_id = ANY(%s)", [tokens])
        cursor.execute("DELETE FROM api_apitoken WHERE id = ANY(%s)", [tokens])
        cursor.execute(
            "DELETE FROM tickets_orderitem WHERE order_id IN "
            "(SELECT id FROM tickets_order WHERE shop_id = %s)",
            [shop_id],
        )
        cursor.execute("DELETE FROM tickets_order WHERE shop_id = %s", [shop_id])
        cursor.execute(
            "DELETE FROM tickets_user_groups WHERE user_id IN "
            "(SELECT id FROM tickets_user WHERE username LIKE %s)",
            [f"{code}-%"],
        )
        cursor.execute(
            "DELETE FROM tickets_user_shops WHERE user_id IN "
            "(SELECT id FROM tickets_user WHERE username LIKE %s)",
            [f"{code}-%"],
        )
        cursor.execute("DELETE FROM tickets_user WHERE username LIKE %s", [f"{code}-%"])
        cursor.execute("DELETE FROM tickets_shop WHERE id = %s", [shop_id])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        door, *paths, code = args.one
        try:
            if door == "api":
                result = run_api(Path(paths[0]), code)
            else:
                result = run_csv(Path(paths[0]), Path(paths[1]), code)
        finally:
            clean_up(code)
        print(json.dumps(result))
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a migrated PostgreSQL database (see bench/README.md).")
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        body_path, order_path, item_path, item_rows = write_inputs(Path(folder), args.orders)
        print(
            f"records: {args.orders} orders, {item_rows} items; JSON "
            f"{body_path.stat().st_size / 1e6:.1f} MB, CSV "
            f"{(order_path.stat().st_size + item_path.stat().st_size) / 1e6:.1f} MB"
        )
        results = {"api": [], "csv": []}
        loads = []
        for run in range(args.runs):
            for door in ("api", "csv"):
                code = f"bench-{door}-{os.getpid()}-{run}"
                paths = [str(body_path)] if door == "api" else [str(order_path), str(item_path)]
                loads.append(os.getloadavg()[0])
                child = subprocess.run(  # noqa: S603 - our own script, fixed arguments
                    [sys.executable, __file__, "--one", door, *paths, code],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if child.returncode != 0:
                    sys.exit(child.stderr[-3000:] or child.stdout[-3000:])
                result = json.loads(child.stdout.strip().splitlines()[-1])
                results[door].append(result)
                print(f"run {run + 1} {door}: {result}")
        loads.append(os.getloadavg()[0])
        for door, runs in results.items():
            print(
                f"median {door}: import {statistics.median(r['import'] for r in runs):.2f} s, "
                f"again (unchanged) {statistics.median(r['reimport'] for r in runs):.2f} s, "
                f"peak RSS {statistics.median(r['peak_rss_mb'] for r in runs):.0f} MB "
                f"(baseline {statistics.median(r['baseline_rss_mb'] for r in runs):.0f} MB)"
            )
        print(
            f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}, "
            f"{os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
