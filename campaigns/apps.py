from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from config import tallies

        # SQLite drops a table's triggers when a migration rebuilds it.
        post_migrate.connect(
            tallies.reinstall_sqlite_triggers, dispatch_uid="reinstall-tally-triggers"
        )
