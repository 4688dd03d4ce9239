"""Imports the seller centre's exports from the command line.

    python manage.py import_orders ExportOrderList.csv [ExportOrderDetailList.csv] --shop CODE
    python manage.py import_orders 退款.csv --shop CODE --user NAME
    ... --dry-run   checks and counts, writes nothing

All or nothing: when any row is bad nothing is imported, and the command exits with an error
after listing the bad rows.
"""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

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
            raise CommandError(f"no shop with code {shop!r}") from None
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {user!r}")
        paths = [(None, file)]
        if items_file:
            paths.append(("items", items_file))
        for _kind, path in paths:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
        try:
            batch, report = order_import_from_paths(
                shop=shop_obj, paths=paths, actor=actor, dry_run=dry_run
            )
        except PermissionDenied:
            raise CommandError(f"user {user!r} may not import orders") from None

        for kind, info in report.files.items():
            self.stdout.write(
                f"{info['name']}: {kind_label(kind)}, {info['encoding']}, "
                f"{info['columns']} columns, {info['rows']} rows"
            )
            if "seen_before" in (batch.report["files"].get(kind, {}) if batch else {}):
                seen = batch.report["files"][kind]["seen_before"]
                self.stdout.write(f"  already imported {seen['at']} by {seen['by']}")
        for kind in report.counts:
            if counts := report.counted(kind):
                figures = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
                self.stdout.write(f"{kind}: {figures}")
        for line in report.lines():
            self.stdout.write(line)
        if report.error_count > len(report.errors):
            self.stdout.write(f"... {report.error_count - len(report.errors)} more bad rows")
        if not report.ok:
            raise CommandError(f"{report.error_count} bad rows: nothing was imported")
        if dry_run:
            self.stdout.write(self.style.WARNING("dry run: nothing was written"))
        else:
            self.stdout.write(self.style.SUCCESS(f"imported (batch {batch.pk})"))
