"""Issuing, checking and revoking integration tokens (issue 16, "Access by tokens").

A token is ``dsk_`` and 43 URL-safe characters (32 random bytes). The desk keeps its first 12
characters after the ``dsk_`` to find the row and the SHA-256 of the whole token to prove it,
compared in constant time; the token itself is shown once, when it is issued, and is nowhere
to be read again. Only an administrator (a superuser) issues or revokes one.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Shop, User
from tickets.selectors import visible_shops
from tickets.services import DeskError

from .models import ApiToken
from .scopes import Scope, scope_refusal

PREFIX = "dsk_"
PREFIX_CHARS = 12
# What a token can hold: ``dsk_`` and URL-safe Base64. Anything else (a NUL byte in the header,
# which PostgreSQL's driver refuses with an error instead of finding no row) is no token,
# answered before any query.
TOKEN_CHARS = re.compile(r"dsk_[A-Za-z0-9_-]+")
# A hash nobody's token has, compared when no row matches, so a wrong prefix costs the same.
_NO_HASH = "0" * 64


def token_digest(raw: str) -> str:
    """SHA-256 of the token's text, hex: what the desk keeps instead of the token."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def token_find(raw: str) -> ApiToken | None:
    """The token row whose token ``raw`` is (revoked and expired ones included: the caller
    says why it refuses them), or None. The hash is compared with ``hmac.compare_digest``."""
    if not raw.startswith(PREFIX) or len(raw) > 200 or not TOKEN_CHARS.fullmatch(raw):
        hmac.compare_digest(_NO_HASH, token_digest(raw))
        return None
    prefix = raw[len(PREFIX) : len(PREFIX) + PREFIX_CHARS]
    token = (
        ApiToken.objects.filter(key_prefix=prefix).select_related("user").first()
        if len(prefix) == PREFIX_CHARS
        else None
    )
    expected = token.key_hash if token is not None else _NO_HASH
    if not hmac.compare_digest(expected, token_digest(raw)) or token is None:
        return None
    return token


@dataclass(frozen=True)
class Issued:
    """A token just issued: the row, and the token itself (shown once, never stored)."""

    token: ApiToken
    raw: str


def _require_admin(actor: User) -> None:
    if not (actor.is_active and actor.is_superuser):
        raise PermissionDenied(_("只有管理员可以发放或撤销接口令牌。"))


def token_issue_refusal(
    *,
    name: str,
    user: User,
    scopes: list[str],
    shops: list[Shop] | None,
    all_shops: bool,
    expires_at: datetime | None,
) -> str | None:
    """Why a token with these terms can't be issued (``token_issue``'s rules, for a form to
    show before saving), or None."""
    if not (name or "").strip():
        return _("请给令牌起个名字（例如对接的系统名）。")
    if not scopes:
        return _("请至少选择一项权限。")
    for scope in scopes:
        if scope not in Scope.values:
            return _("未知的权限“%(scope)s”。") % {"scope": scope}
        refusal = scope_refusal(user, scope)
        if refusal:
            return refusal
    if all_shops:
        if not (user.is_superuser or user.all_shops):
            return _("账号 %(user)s 不是负责全部店铺的员工，令牌不能覆盖全部店铺。") % {
                "user": user
            }
    elif not shops:
        return _("请选择令牌可以访问的店铺。")
    else:
        served = set(visible_shops(user).values_list("pk", flat=True))
        for shop in shops:
            if shop.pk not in served:
                return _("账号 %(user)s 不负责店铺“%(shop)s”。") % {
                    "user": user,
                    "shop": shop.name,
                }
    if expires_at is not None and expires_at <= timezone.now():
        return _("到期时间必须在将来。")
    return None


@transaction.atomic
def token_issue(
    *,
    actor: User,
    name: str,
    user: User,
    scopes: list[str],
    shops: list[Shop] | None = None,
    all_shops: bool = False,
    expires_at: datetime | None = None,
) -> Issued:
    """Issues a token acting as ``user`` with ``scopes`` (``Scope`` values) in ``shops`` (or,
    with ``all_shops``, every shop ``user`` serves now or later). Only a superuser issues.

    Raises ``DeskError`` (message for the administrator) when a scope is unknown or ``user``'s
    role can't do it (``scopes.scope_refusal``), when a shop is not one ``user`` serves, when
    no shop or scope is named, or when the expiry is in the past. Returns the row and the
    token, which the caller shows once."""
    _require_admin(actor)
    name = (name or "").strip()[:60]
    refusal = token_issue_refusal(
        name=name, user=user, scopes=scopes, shops=shops, all_shops=all_shops, expires_at=expires_at
    )
    if refusal:
        raise DeskError(refusal)
    scopes = list(dict.fromkeys(scopes))
    shops = [] if all_shops else list(shops or [])
    while True:
        raw = PREFIX + secrets.token_urlsafe(32)
        prefix = raw[len(PREFIX) : len(PREFIX) + PREFIX_CHARS]
        if not ApiToken.objects.filter(key_prefix=prefix).exists():
            break
    token = ApiToken.objects.create(
        name=name,
        user=user,
        all_shops=all_shops,
        scopes=scopes,
        key_prefix=prefix,
        key_hash=token_digest(raw),
        created_by=actor,
        expires_at=expires_at,
    )
    token.shops.set(shops)
    return Issued(token, raw)


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revokes ``token`` from the next call on (a second revocation changes nothing). Only a
    superuser revokes; the row stays, with who and when, as the record of its calls."""
    _require_admin(actor)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    return token


def token_refusal(token: ApiToken, now=None) -> str | None:
    """Why ``token`` may not be used now (revoked, expired, its account inactive), or None."""
    if token.is_revoked:
        return _("这个接口令牌已被撤销。")
    if token.is_expired(now):
        return _("这个接口令牌已过期。")
    if not token.user.is_active:
        return _("这个接口令牌代表的账号已停用。")
    return None
