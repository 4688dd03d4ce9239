"""The desk's roles and what each may do.

Roles are Django groups created by a data migration from ``ROLE_PERMISSIONS``; views
check permissions (``user.has_perm``), never ``is_staff``. Which *shops* a user serves is
a separate question, answered in ``tickets.selectors``.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    FINANCE = "finance"


ROLE_LABELS = {
    Role.AGENT: _("售后客服"),
    Role.SUPERVISOR: _("主管"),
    Role.FINANCE: _("财务"),
}

_VIEW = ("view",)
_WORK = ("view", "add", "change")

_AGENT = {
    "tickets.shop": _VIEW,
    "tickets.courier": _VIEW,
    "tickets.product": _VIEW,
    "tickets.sku": _VIEW,
    "tickets.order": (*_WORK, "reveal_personal_data"),
    "tickets.orderitem": _WORK,
    "tickets.ticket": (*_WORK, "escalate_ticket"),
    "tickets.ticketitem": _WORK,
    "tickets.ticketevent": ("view", "add"),
    "tickets.promise": _WORK,
    "tickets.ticketphoto": ("view", "add"),
    "tickets.quickreply": _VIEW,
    "tickets.ledgerentry": ("view", "add"),
    "tickets.ledgerapproval": _VIEW,
    "tickets.returnparcel": _WORK,
    "tickets.courierlossreport": _WORK,
    "tickets.qualityproblem": _WORK,
    "tickets.productionalert": _VIEW,
    "tickets.productfeedback": _WORK,
    "tickets.wrongshipment": _WORK,
    "tickets.platformintervention": _WORK,
    "tickets.invoicerequest": _WORK,
    "tickets.review": _WORK,
    "tickets.reviewcontact": ("view", "add"),
    "tickets.handovernote": _WORK,
    "tickets.vipcustomer": _VIEW,
    "tickets.vipfollowup": _WORK,
    # Issue 6: importing the seller centre's exports; reading the rate card.
    "tickets.orderimport": ("view", "add"),
    "tickets.orderimportfile": _VIEW,
    "tickets.refundrequest": _VIEW,
    "tickets.postagerate": _VIEW,
    # Issue 11: what an exchange sends out and the difference the buyer pays; the order's
    # flag and receipt extension; the agent's own saved ticket-list views.
    "tickets.exchangereplacement": _WORK,
    "tickets.exchangecharge": ("view", "add"),
    "tickets.orderchange": ("view", "add"),
    "tickets.savedview": ("view", "add", "change", "delete"),
    # Issue 13: an agent raises an escalation and reads its decision.
    "tickets.escalation": ("view", "add"),
}

_SUPERVISOR = {
    **_AGENT,
    "tickets.quickreply": ("view", "add", "change", "delete"),
    "tickets.ledgerentry": ("view", "add", "approve_compensation"),
    "tickets.ledgerapproval": ("view", "add"),
    "tickets.productionalert": _WORK,
    "tickets.vipcustomer": _WORK,
    "tickets.personaldataaccess": _VIEW,
    "finance_exports.sheet": ("view", "download_sheet", "approve_sheet", "rebuild_sheet"),
    "finance_exports.sheetdownload": _VIEW,
    # Issue 6: supervisors keep the rate card, including which couriers are priced by hand.
    "tickets.postagerate": ("view", "add", "change", "delete"),
    "tickets.courier": ("view", "change"),
    # They read the staff list and each reference record's history (who changed what).
    "tickets.user": _VIEW,
    "auth.group": _VIEW,
    # Issue 12: they see locked-out logins and unlock them (/lockouts/; deleting axes' failure
    # records is the unlock).
    "axes.accessattempt": ("view", "delete"),
    # Issue 13: the supervisor decides escalations (instruct, exception, take over, return).
    "tickets.escalation": ("view", "add", "decide_escalation"),
}

_FINANCE = {
    "tickets.shop": _VIEW,
    "tickets.courier": _VIEW,
    "tickets.order": _VIEW,
    "tickets.orderitem": _VIEW,
    "tickets.ticket": _VIEW,
    "tickets.ledgerentry": _VIEW,
    "tickets.ledgerapproval": _VIEW,
    "tickets.courierlossreport": ("view", "change"),
    "tickets.invoicerequest": ("view", "change"),
    "finance_exports.sheet": ("view", "download_sheet"),
    "finance_exports.sheetdownload": _VIEW,
    "tickets.exchangereplacement": _VIEW,
    "tickets.exchangecharge": _VIEW,
    "tickets.orderchange": _VIEW,
    "tickets.savedview": ("view", "add", "change", "delete"),
}

ROLE_PERMISSIONS: dict[Role, dict[str, tuple[str, ...]]] = {
    Role.AGENT: _AGENT,
    Role.SUPERVISOR: _SUPERVISOR,
    Role.FINANCE: _FINANCE,
}


def permission_codenames(role: Role) -> set[tuple[str, str]]:
    """(app_label, codename) pairs a role holds, e.g. ("tickets", "view_order")."""
    pairs = set()
    for model_label, actions in ROLE_PERMISSIONS[role].items():
        app_label, model = model_label.split(".")
        for action in actions:
            codename = action if "_" in action else f"{action}_{model}"
            pairs.add((app_label, codename))
    return pairs


def user_roles(user) -> set[Role]:
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return set(Role)
    user_access_load(user)
    return user._desk_roles


def user_access_load(user) -> None:
    """Reads what ``user`` may do in one query - their groups' names (the roles), their groups'
    permissions and their own - and keeps it on the user object (so for one request), where
    ``user_roles`` and Django's ``ModelBackend`` look: ``_desk_roles`` (a set of ``Role``),
    ``_group_perm_cache`` and ``_user_perm_cache`` (sets of ``"app_label.codename"``, as the
    backend builds them; it unites them itself into ``_perm_cache``).

    Every page asked three times (the user's permissions, the groups' permissions, the groups'
    names: three round trips and three compiled queries on each page, issue 14). Loaded once
    per user object, after which nothing is read again; an inactive user or a superuser is
    left to the backend (it answers them without these sets)."""
    if getattr(user, "_desk_roles", None) is not None:
        return
    if not user.is_authenticated or not user.is_active or user.is_superuser:
        return
    from django.contrib.auth.models import Group, Permission
    from django.db.models import CharField, Value

    own = (
        Permission.objects.filter(user=user)
        .order_by()
        .values_list(Value(None, output_field=CharField()), "content_type__app_label", "codename")
    )
    # A group without any permission still names a role: one row with no permission.
    grouped = (
        Group.objects.filter(user=user)
        .order_by()
        .values_list("name", "permissions__content_type__app_label", "permissions__codename")
    )
    names: set[str] = set()
    group_perms: set[str] = set()
    user_perms: set[str] = set()
    for group_name, app_label, codename in own.union(grouped, all=True):
        if group_name is None:
            user_perms.add(f"{app_label}.{codename}")
            continue
        names.add(group_name)
        if codename is not None:
            group_perms.add(f"{app_label}.{codename}")
    user._user_perm_cache = user_perms
    user._group_perm_cache = group_perms
    user._desk_roles = {role for role in Role if role.value in names}


def has_role(user, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))


def sync_roles(apps, *, strict: bool = True) -> None:
    """Creates the role groups and gives each exactly the permissions listed above.

    Safe to run again (it sets, not adds). A data migration runs it with ``strict=False``:
    models added by later migrations don't exist yet at that point, so their permissions are
    skipped there; ``post_migrate`` then runs it strictly once every migration is applied."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role in Role:
        group, _created = group_model.objects.get_or_create(name=role.value)
        wanted = permission_codenames(role)
        permissions = [
            permission
            for permission in permission_model.objects.select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        missing = wanted - {(p.content_type.app_label, p.codename) for p in permissions}
        if missing and strict:
            raise LookupError(f"role {role} names unknown permissions: {sorted(missing)}")
        group.permissions.set(permissions)
