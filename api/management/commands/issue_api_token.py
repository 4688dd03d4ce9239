"""``manage.py issue_api_token``: an administrator issues an integration token from the shell.
The token is printed once; the desk keeps only its hash. Messages and refusals are in the desk's
language (``LANGUAGE_CODE``, Chinese), like the services' own."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from api.scopes import Scope
from api.tokens import token_issue, token_revoke
from tickets.models import Shop, User
from tickets.services import DeskError


class Command(BaseCommand):
    help = "Issue (or --revoke) an API token acting as an account, for some shops and scopes."

    def add_arguments(self, parser):
        parser.add_argument("--name", help="What the token is for, e.g. the ERP's name.")
        parser.add_argument("--user", help="The account the token acts for (its username).")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            choices=Scope.values,
            help="A scope; repeat for several.",
        )
        parser.add_argument(
            "--shop", action="append", default=[], help="A shop's code; repeat for several."
        )
        parser.add_argument("--all-shops", action="store_true", help="Every shop the user serves.")
        parser.add_argument(
            "--by", required=True, help="The administrator (a superuser) issuing the token."
        )
        parser.add_argument("--revoke", metavar="PREFIX", help="Revoke the token dsk_PREFIX….")

    def handle(self, *args, **options):
        admin = User.objects.filter(username=options["by"]).first()
        if admin is None or not admin.is_superuser:
            raise CommandError(_("--by 要写一个超级管理员的用户名。"))
        if options["revoke"]:
            from api.models import ApiToken

            prefix = options["revoke"].removeprefix("dsk_")[:12]
            token = ApiToken.objects.filter(key_prefix=prefix).first()
            if token is None:
                raise CommandError(_("没有以这个前缀开头的接口令牌。"))
            token_revoke(actor=admin, token=token)
            self.stdout.write(_("已撤销 %(token)s。") % {"token": token})
            return
        user = User.objects.filter(username=options["user"] or "").first()
        if user is None:
            raise CommandError(_("--user 要写一个已有账号的用户名。"))
        shops = list(Shop.objects.filter(code__in=options["shop"]))
        unknown = set(options["shop"]) - {shop.code for shop in shops}
        if unknown:
            raise CommandError(
                _("没有这些店铺代码：%(codes)s。") % {"codes": ", ".join(sorted(unknown))}
            )
        try:
            issued = token_issue(
                actor=admin,
                name=options["name"] or "",
                user=user,
                scopes=options["scope"],
                shops=shops,
                all_shops=options["all_shops"],
            )
        except DeskError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            _("已签发 %(token)s。令牌如下（只显示这一次，请妥善保存）：") % {"token": issued.token}
        )
        self.stdout.write(issued.raw)
