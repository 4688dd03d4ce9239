from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tickets.demo import build_demo
from tickets.models import Order


class Command(BaseCommand):
    help = (
        "Fills the database with deterministic demo data: shops, staff, orders, tickets, "
        "money, every register, the day's escalations and notifications, the sheets."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="random seed (default %(default)s; with --today: same seed, same data)",
        )
        parser.add_argument(
            "--orders", type=int, default=12000, help="how many orders (default %(default)s)"
        )
        parser.add_argument(
            "--tickets", type=int, default=None, help="how many tickets (default 4%% of orders)"
        )
        parser.add_argument(
            "--days", type=int, default=60, help="how many days of history (default %(default)s)"
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="YYYY-MM-DD the data ends on, at 15:30 (default: now; with it, the same "
            "seed gives the same data)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when orders already exist"
        )

    def handle(self, *args, **options):
        if options["orders"] < 0 or (options["tickets"] or 0) < 0 or options["days"] < 1:
            raise CommandError("--orders and --tickets must be ≥ 0 and --days ≥ 1")
        if options["if_empty"] and Order.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        result = build_demo(
            seed=options["seed"],
            orders=options["orders"],
            tickets=options["tickets"],
            today=options["today"],
            days=options["days"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {result.shops} shops, {result.orders} orders ({result.items} items), "
                f"{result.tickets} tickets, {result.ledger} ledger entries."
            )
        )
        if result.registers:
            made = ", ".join(f"{n} {what}" for what, n in result.registers.items())
            self.stdout.write(f"Registers and the day's desk: {made}.")
        took = ", ".join(f"{what} {seconds:.1f} s" for what, seconds in result.seconds.items())
        self.stdout.write(f"Took {took}.")
        self.stdout.write(
            f"Demo logins: {', '.join(result.users)} / password: {settings.DESK_DEMO_PASSWORD}"
        )
