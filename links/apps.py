from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "links"

    def ready(self) -> None:
        # outreach runs every import but may not import links; links hands it
        # the backlink importer instead.
        from links.imports import BacklinkImporter
        from outreach.imports.registry import register

        register(BacklinkImporter)
        # Binds the tasks that services queue through links.dispatch.
        import links.tasks  # noqa: F401
