from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("售后")

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        post_migrate.connect(_sync_roles_after_migrate, sender=self)
        connection_created.connect(_sqlite_functions)


def _sqlite_functions(sender, connection, **kwargs):
    """SQLite's UPPER folds ASCII only: ``DESK_UPPER`` folds every script, as PostgreSQL's
    UPPER does, for the nickname searches (``tickets.selectors._FoldCase``)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("DESK_UPPER", 1, _upper, deterministic=True)


def _upper(value):
    from .text import fold_case

    return fold_case(value) if isinstance(value, str) else value


def _sync_roles_after_migrate(sender, apps=None, **kwargs):
    """Roles always end a migrate (or a flush) holding exactly the permissions in
    ``tickets.roles``. A flush sends the signal without a migration state: use the models."""
    from django.apps import apps as global_apps
    from django.db import connections

    from .db import guards_ensure
    from .roles import sync_roles

    sync_roles(apps or global_apps)
    guards_ensure(connections[kwargs.get("using") or "default"])
