"""Imports the seller centre's exports from the command line.

    python manage.py import_orders ExportOrderList.csv [ExportOrderDetailList.csv] --shop CODE
    python manage.py import_orders 退款.csv --shop CODE --user NAME
    ... --dry-run   checks and counts, writes nothing

All or nothing: when any row is bad nothing is imported, and the command exits with an error
after listing the bad rows. Messages and refusals are in the desk's language (``LANGUAGE_CODE``,
Chinese), like the import report's own.
"""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tickets.imports.batches import order_import_from_paths
from tickets.imports.run import kind_label
from tickets.models import Shop, User


class Command(BaseCommand):
    help = "Import the seller centre's order export (and its item export), or its refund export."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", type=Path, help="order export (ExportOrderList*.csv) or refund export"
        )
        parser.add_argument(
            "items_file", type=Path, nargs="?", help="item export (ExportOrderDetailList*.csv)"
        )
        parser.add_argument("--shop", required=True, help="the shop's code")
        parser.add_argument(
            "--user", help="username recorded as the importer (needed for a refund export)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count only")

    def handle(self, *args, file, items_file, shop, user, dry_run, **options):
        try:
            shop_obj = Shop.objects.get(code=shop)
        except Shop.DoesNotExist:
            raise CommandError(_("没有代码为 %(shop)r 的店铺。") % {"shop": shop}) from None
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("没有在职的账号 %(user)r。") % {"user": user})
        paths = [(None, file)]
        if items_file:
            paths.append(("items", items_file))
        for _kind, path in paths:
            if not path.is_file():
                raise CommandError(_("%(path)s：没有这个文件。") % {"path": path})
        try:
            batch, report = order_import_from_paths(
                shop=shop_obj, paths=paths, actor=actor, dry_run=dry_run
            )
        except PermissionDenied:
            raise CommandError(_("账号 %(user)r 不能导入订单。") % {"user": user}) from None

        for kind, info in report.files.items():
            self.stdout.write(
                _("%(name)s：%(kind)s，%(encoding)s，%(columns)s 列，%(rows)s 行")
                % {
                    "name": info["name"],
                    "kind": kind_label(kind),
                    "encoding": info["encoding"],
                    "columns": info["columns"],
                    "rows": info["rows"],
                }
            )
            if "seen_before" in (batch.report["files"].get(kind, {}) if batch else {}):
                seen = batch.report["files"][kind]["seen_before"]
                self.stdout.write(
                    "  " + _("已在 %(at)s 由 %(by)s 导入过") % {"at": seen["at"], "by": seen["by"]}
                )
        for kind in report.counts:
            if counts := report.counted(kind):
                figures = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
                self.stdout.write(f"{kind}: {figures}")
        for line in report.lines():
            self.stdout.write(line)
        if report.error_count > len(report.errors):
            more = report.error_count - len(report.errors)
            self.stdout.write("... " + _("还有 %(count)s 行有错") % {"count": more})
        if not report.ok:
            raise CommandError(
                _("%(count)s 行有错：什么也没有导入。") % {"count": report.error_count}
            )
        if dry_run:
            self.stdout.write(self.style.WARNING(_("试导入：什么也没有写入。")))
        else:
            self.stdout.write(
                self.style.SUCCESS(_("已导入（批次 %(batch)s）") % {"batch": batch.pk})
            )
