from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from config import sqlite_triggers

        # SQLite drops a table's triggers when a migration rebuilds it, and
        # cannot rebuild a table another table's trigger names. Once per
        # migrate: the signals are sent for each app.
        pre_migrate.connect(sqlite_triggers.drop, sender=self, dispatch_uid="drop-sqlite-triggers")
        post_migrate.connect(
            sqlite_triggers.reinstall, sender=self, dispatch_uid="reinstall-sqlite-triggers"
        )
