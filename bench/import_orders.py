"""Time and memory of importing the seller centre's exports on PostgreSQL.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_bench \
        .venv/bin/python bench/import_orders.py [--orders 100000] [--runs 5]

Writes a GBK order export (56 columns, order numbers as ="…") and its item export (1.5 item
rows per order on average) into a temporary folder, streamed, then imports them ``--runs``
times into a fresh shop, each run in its own process so its peak memory (ru_maxrss) is its
own. Each run is followed, in the same process, by a re-import of the same files (everything
unchanged). Prints each run and the medians. The database must be migrated first.

Each run is then compared with a bare COPY of the same rows into the same tables (``--copy``,
a third process): the rows the import wrote (the shop's orders and items, every column) are
read out with ``COPY ... TO`` in PostgreSQL's binary format, deleted, and written back with
``COPY ... FROM`` in one transaction, timed to its commit, the tables' indexes, constraints
and triggers as for the import. What an import costs beyond that is its own: reading and
cleaning the files, the existence lookups, the statistics. ``--copy-only`` skips the
imports' timing output and prints only the bare COPY figures (the import still runs, once,
to make the rows). Wall times on the shared machine count the other work too, so each run
also prints the CPU time of the process and of its PostgreSQL backend.
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

HEADERS = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分",
    "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言",
    "收货人姓名", "收货地址 ", "运送方式", "联系电话 ", "联系手机", "订单创建时间",
    "订单付款时间 ", "宝贝标题 ", "宝贝种类 ", "物流单号 ", "物流公司", "订单备注",
    "宝贝总数量", "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头",
    "是否手机订单", "分阶段订单信息", "特权订金订单id", "是否上传合同照片", "是否上传小票",
    "是否代付", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣",
    "集分宝抵扣", "是否是O2O交易", "新零售交易类型", "新零售导购门店id", "退款金额",
    "预约门店", "确认收货时间", "打款商家金额", "含应开票给个人的个人红包", "是否信用购",
    "发货时间", "商家备忘", "支付宝交易号", "订单类型",
]  # fmt: skip
ITEM_HEADERS = [
    "订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注",
    "订单状态", "商家编码",
]  # fmt: skip
PLACES = [
    ("湖北省", "武汉市", "江汉区"), ("湖北省", "宜昌市", "西陵区"), ("上海", "上海市", "浦东新区"),
    ("江苏省", "苏州市", "姑苏区"), ("浙江省", "杭州市", "余杭区"), ("广东省", "深圳市", "南山区"),
    ("北京", "北京市", "朝阳区"), ("四川省", "成都市", "武侯区"),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
]  # fmt: skip
STATUSES = ["交易成功"] * 6 + ["卖家已发货，等待买家确认"] * 3 + ["买家已付款，等待卖家发货"]
PRODUCTS = [("纯棉宽松T恤", "99.00", "TS1001"), ("直筒牛仔裤", "159.00", "JN2001"),
            ("连帽卫衣", "199.00", "HD3001"), ("棉袜三双装", "19.90", "SK4001")]  # fmt: skip
COURIERS = ["中通快递", "圆通速递", "韵达快递", "申通快递"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def write_files(folder: Path, orders: int, seed: int = 6) -> tuple[Path, Path, int]:
    """Streams an order export and its item export to ``folder``; returns the paths and the
    number of item rows."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    start = datetime(2026, 3, 1, 8, 0, 0, tzinfo=SHANGHAI)  # written as Beijing time
    order_path, item_path = (
        folder / "ExportOrderList-bench.csv",
        folder / "ExportOrderDetailList-bench.csv",
    )
    item_rows = 0
    with (
        order_path.open("w", encoding="gbk", newline="") as o,
        item_path.open("w", encoding="gbk", newline="") as i,
    ):
        orders_out, items_out = csv.writer(o), csv.writer(i)
        orders_out.writerow(HEADERS)
        items_out.writerow(ITEM_HEADERS)
        for n in range(orders):
            number = str(3_515_000_000_000_000_000 + n * 7919)
            placed = start + timedelta(seconds=n * 7)
            lines = [rng.choice(PRODUCTS) for _ in range(1 if n % 2 else 2)]
            goods = sum(float(price) for _t, price, _c in lines)
            province, city, district = rng.choice(PLACES)
            status = rng.choice(STATUSES)
            row = dict.fromkeys(HEADERS, "")
            row.update({
                "订单编号": f'="{number}"', "买家会员名": f"买家{n % 5000}号",
                "买家支付宝账号": "buyer***@163.com", "买家应付货款": f"{goods:.2f}",
                "买家应付邮费": "0.00", "总金额": f"{goods:.2f}",
                "买家实际支付金额": f"{goods:.2f}",
                "订单状态": status, "收货人姓名": "张三",
                "收货地址 ": f"{province} {city} {district} 解放大道{n % 999}号(430{n % 999:03d})",
                "联系手机": f"'139{n:08d}", "订单创建时间": f"{placed:%Y-%m-%d %H:%M:%S}",
                "订单付款时间 ": f"{placed + timedelta(minutes=2):%Y-%m-%d %H:%M:%S}",
                "物流单号 ": f'="ZT{n:012d}"' if "发货" not in status or "已发货" in status else "",
                "物流公司": rng.choice(COURIERS),
                "发货时间": f"{placed + timedelta(hours=20):%Y-%m-%d %H:%M:%S}",
                "支付宝交易号": f"'2026{n:020d}",
            })  # fmt: skip
            orders_out.writerow([row[h] for h in HEADERS])
            for title, price, code in lines:
                items_out.writerow(
                    [f'="{number}"', title, price, "1", f"{code}-BK-L", "颜色分类:黑色;尺码:L",
                     "", "", status, code]
                )  # fmt: skip
                item_rows += 1
    return order_path, item_path, item_rows


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one_run(order_path: Path, item_path: Path, shop_code: str) -> dict:
    """In a child process: import into a fresh shop, then import the same files again."""
    import django

    django.setup()
    from django.conf import settings

    # As in production: with DEBUG on, Django keeps the SQL of the last 9,000 queries, which
    # would count in the memory measured here.
    settings.DEBUG = False
    from django.db import connection

    from bench.measuring import backend_cpu_seconds
    from tickets.imports.run import Upload, import_files
    from tickets.models import Order, Shop

    shop = Shop.objects.create(
        code=shop_code, name=f"基准店{shop_code}", kind="c_store", location="wuhan"
    )
    Order.objects.exists()  # connect before the baseline
    baseline = rss_mb()
    result = {}
    for label in ("import", "reimport"):
        with order_path.open("rb") as o, item_path.open("rb") as i:
            db_cpu = backend_cpu_seconds(connection)
            cpu = time.process_time()
            started = time.perf_counter()
            report = import_files(
                shop=shop, uploads=[Upload("orders", o.name, o), Upload("items", i.name, i)]
            )
            result[label] = round(time.perf_counter() - started, 2)
            result[f"{label}_cpu"] = round(time.process_time() - cpu, 2)
            result[f"{label}_db_cpu"] = round(backend_cpu_seconds(connection) - db_cpu, 2)
        if not report.applied:
            raise SystemExit("\n".join(report.lines()[:5]))
        result[f"{label}_counts"] = {k: report.counted(k) for k in ("orders", "items")}
    result["baseline_rss_mb"] = round(baseline, 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def copy_run(shop_code: str, folder: Path) -> dict:
    """In a child process: the bare COPY of the rows an import of the files wrote into the
    shop ``shop_code``: read out (binary COPY TO files in ``folder``), deleted, then written
    back with COPY FROM in one transaction, timed to its commit."""
    import django

    django.setup()
    from django.db import connection, transaction

    from bench.measuring import backend_cpu_seconds

    tables = {
        "tickets_order": "SELECT * FROM tickets_order WHERE shop_id = {shop} ORDER BY id",
        "tickets_orderitem": (
            "SELECT i.* FROM tickets_orderitem i JOIN tickets_order o ON o.id = i.order_id "
            "WHERE o.shop_id = {shop} ORDER BY i.id"
        ),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tickets_shop WHERE code = %s", [shop_code])
        shop = int(cursor.fetchone()[0])
        for table, select in tables.items():
            query = f"COPY ({select.format(shop=shop)}) TO STDOUT (FORMAT BINARY)"
            with cursor.cursor.copy(query) as copy, (folder / f"{table}.copy").open("wb") as out:
                for data in copy:
                    out.write(data)
        cursor.execute(
            "DELETE FROM tickets_orderitem WHERE order_id IN "
            "(SELECT id FROM tickets_order WHERE shop_id = %s)",
            [shop],
        )
        cursor.execute("DELETE FROM tickets_order WHERE shop_id = %s", [shop])
    db_cpu = backend_cpu_seconds(connection)
    cpu = time.process_time()
    started = time.perf_counter()
    rows = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            with (
                cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy,
                (folder / f"{table}.copy").open("rb") as data,
            ):
                while chunk := data.read(1 << 20):
                    copy.write(chunk)
            rows[table] = cursor.cursor.rowcount
    seconds = time.perf_counter() - started
    for table in tables:
        (folder / f"{table}.copy").unlink()
    return {
        "copy": round(seconds, 2),
        "copy_cpu": round(time.process_time() - cpu, 2),
        "copy_db_cpu": round(backend_cpu_seconds(connection) - db_cpu, 2),
        "copy_rows": rows,
    }


def clean_up(shop_code: str) -> None:
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tickets_shop WHERE code = %s", [shop_code])
        row = cursor.fetchone()
        if row is None:
            return
        cursor.execute(
            "DELETE FROM tickets_orderitem WHERE order_id IN "
            "(SELECT id FROM tickets_order WHERE shop_id = %s)",
            [row[0]],
        )
        cursor.execute("DELETE FROM tickets_order WHERE shop_id = %s", [row[0]])
        cursor.execute("DELETE FROM tickets_shop WHERE id = %s", [row[0]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--copy-only",
        action="store_true",
        help="print only the bare COPY of the rows an import writes (see above)",
    )
    parser.add_argument(
        "--one", nargs=3, metavar=("ORDERS", "ITEMS", "SHOP"), help=argparse.SUPPRESS
    )
    parser.add_argument("--copy", nargs=2, metavar=("SHOP", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(Path(args.one[0]), Path(args.one[1]), args.one[2])))
        return
    if args.copy:
        print(json.dumps(copy_run(args.copy[0], Path(args.copy[1]))))
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a migrated PostgreSQL database (see bench/README.md).")
    from bench.measuring import yardstick_line

    print(yardstick_line())
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        started = time.perf_counter()
        order_path, item_path, item_rows = write_files(Path(folder), args.orders)
        size = (order_path.stat().st_size + item_path.stat().st_size) / 1e6
        print(
            f"files: {args.orders} orders, {item_rows} item rows, {size:.1f} MB "
            f"(written in {time.perf_counter() - started:.1f} s)"
        )
        results = []
        for run in range(args.runs):
            shop_code = f"bench-import-{os.getpid()}-{run}"
            child = subprocess.run(  # noqa: S603 - our own script, fixed arguments
                [sys.executable, __file__, "--one", str(order_path), str(item_path), shop_code],
                capture_output=True,
                text=True,
                check=False,
            )
            if child.returncode != 0:
                clean_up(shop_code)
                sys.exit(child.stderr)
            result = json.loads(child.stdout.strip().splitlines()[-1])
            copied = subprocess.run(  # noqa: S603 - our own script, fixed arguments
                [sys.executable, __file__, "--copy", shop_code, folder],
                capture_output=True,
                text=True,
                check=False,
            )
            clean_up(shop_code)
            if copied.returncode != 0:
                sys.exit(copied.stderr)
            result.update(json.loads(copied.stdout.strip().splitlines()[-1]))
            result["ratio"] = round(result["import"] / result["copy"], 2)
            result["cpu_ratio"] = round(
                (result["import_cpu"] + result["import_db_cpu"])
                / (result["copy_cpu"] + result["copy_db_cpu"]),
                2,
            )
            results.append(result)
            load = os.getloadavg()[0]
            copy = (
                f"bare COPY {result['copy']} s (CPU {result['copy_cpu']} s + "
                f"PostgreSQL {result['copy_db_cpu']} s), {result['copy_rows']}"
            )
            if args.copy_only:
                print(f"run {run + 1}: {copy}; load {load:.1f}", flush=True)
                continue
            print(
                f"run {run + 1}: import {result['import']} s (CPU {result['import_cpu']} s + "
                f"PostgreSQL {result['import_db_cpu']} s), re-import {result['reimport']} s "
                f"(CPU {result['reimport_cpu']} s + PostgreSQL {result['reimport_db_cpu']} s), "
                f"{copy}: import/COPY {result['ratio']} (CPU {result['cpu_ratio']}), "
                f"RSS {result['baseline_rss_mb']} -> peak {result['peak_rss_mb']} MB, "
                f"{result['import_counts']}; load {load:.1f}",
                flush=True,
            )
        keys = ("copy", "copy_cpu", "copy_db_cpu")
        if not args.copy_only:
            keys = ("import", "import_cpu", "import_db_cpu", "reimport", "reimport_cpu")
            keys += ("reimport_db_cpu", "peak_rss_mb", "copy", "copy_cpu", "copy_db_cpu")
            keys += ("ratio", "cpu_ratio")
        for key in keys:
            print(f"median {key}: {statistics.median(r[key] for r in results)}")


if __name__ == "__main__":
    main()
