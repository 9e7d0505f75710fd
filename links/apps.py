from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "links"

    def ready(self) -> None:
        # outreach runs every import but may not import links; links hands it
        # the backlink importer instead.
        from links.imports import BacklinkImporter
        from outreach.imports.registry import register

        register(BacklinkImporter)
        # A competitor export read or deleted changes the ratings our links'
        # quality scores use (the link gap cannot import links.quality).
        from links import quality
        from links.prospecting.signals import exports_changed

        exports_changed.connect(quality.rescore_campaign, dispatch_uid="quality-on-exports")
        # Binds the tasks that services queue through links.dispatch.
        import links.tasks  # noqa: F401
