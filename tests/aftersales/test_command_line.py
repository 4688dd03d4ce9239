"""The desk's command line speaks one language: ``build_sheet``, ``issue_api_token`` and
``import_orders`` answer in the desk's language (``LANGUAGE_CODE``, Chinese) like the services
whose refusals they pass on, with English translations; ``manage.py`` writes nothing to stderr
that nobody asked for (django-axes' start-up line)."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]


def refusal(*args, **options) -> str:
    with pytest.raises(CommandError) as refused:
        call_command(*args, stdout=StringIO(), stderr=StringIO(), **options)
    return str(refused.value)


@pytest.mark.parametrize(
    ("args", "chinese", "english"),
    [
        (
            ("build_sheet", "courier_loss", "--date", "2026-11-01"),
            "courier_loss 是月表：请用 --month YYYY-MM。",
            "courier_loss is a monthly sheet: use --month YYYY-MM.",
        ),
        (
            ("build_sheet", "finance", "--month", "2026-11"),
            "finance 不是月表：请用 --date YYYY-MM-DD。",
            "finance is not a monthly sheet: use --date YYYY-MM-DD.",
        ),
        (
            ("build_sheet", "finance", "--date", "24.11.2026"),
            "--date 要写成 2026-11-24 这样，不是 '24.11.2026'。",
            "--date must look like 2026-11-24, not '24.11.2026'.",
        ),
        (
            ("build_sheet", "invoices", "--date", "2026-11-05"),
            "invoices 的日期是 2026-11-01 或 2026-11-11，不是 2026-11-05。",
            "invoices sheets are dated 2026-11-01 or 2026-11-11, not 2026-11-05.",
        ),
        (
            ("issue_api_token", "--by", "nobody"),
            "--by 要写一个超级管理员的用户名。",
            "--by must name a superuser.",
        ),
        (
            ("import_orders", "orders.csv", "--shop", "nope"),
            "没有代码为 'nope' 的店铺。",
            "No shop with the code 'nope'.",
        ),
    ],
)
def test_a_commands_refusal_is_in_the_desks_language_and_translated(db, args, chinese, english):
    assert refusal(*args) == chinese
    with translation.override("en"):
        assert refusal(*args) == english


def test_a_refusal_passed_on_from_a_service_is_in_the_same_language_as_the_commands_own(db):
    make_user("root", None, is_superuser=True, is_staff=True)
    make_user("erp", None)
    # the service's refusal (a DeskError) beside the command's own, both Chinese
    issued = refusal("issue_api_token", "--by", "root", "--user", "erp", "--all-shops")
    own = refusal("issue_api_token", "--by", "root", "--user", "erp", "--shop", "ghost")
    assert own == "没有这些店铺代码：ghost。"
    assert issued.isascii() is False
    assert not any(word in issued + own for word in ("Unknown", "must", "token"))


def test_build_sheets_help_says_which_kinds_take_a_date_and_which_a_month():
    from finance_exports.management.commands.build_sheet import Command

    text = " ".join(Command().create_parser("manage.py", "build_sheet").format_help().split())
    assert "--date YYYY-MM-DD the business date, for exchanges, finance, invoices" in text
    assert "--month YYYY-MM the month, for courier_loss, exchange_slips" in text


@pytest.mark.parametrize("args", [["--help"], ["build_sheet", "--help"], ["check"]])
def test_manage_py_writes_no_start_up_line_to_stderr(args):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.setdefault("DEBUG", "1")
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stderr
    assert result.stderr.strip() in ("", "System check identified no issues (0 silenced).")


def test_seed_demos_help_gives_its_defaults():
    from tickets.management.commands.seed_demo import Command

    text = " ".join(Command().create_parser("manage.py", "seed_demo").format_help().split())
    assert "random seed (default 2026;" in text
    assert "how many orders (default 12000)" in text
    assert "how many days of history (default 60)" in text


def test_every_phony_target_of_the_makefile_has_a_rule():
    import re

    makefile = (ROOT / "Makefile").read_text()
    phony = set(re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split())
    rules = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M))
    assert phony - rules == set()
    assert {"e2e", "test-sqlite"} <= rules
