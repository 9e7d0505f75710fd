from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from config import sqlite_triggers

        # SQLite drops a table's triggers when a migration rebuilds it.
        post_migrate.connect(sqlite_triggers.reinstall, dispatch_uid="reinstall-sqlite-triggers")
