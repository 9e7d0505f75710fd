from django.apps import AppConfig


class ProspectingConfig(AppConfig):
    """Finding prospects: the broken-link finder and the competitor link gap.

    It lives under ``links`` because both need what only ``links`` may use: the
    finder runs the verifier's fetcher with the project's fetch settings and the
    cross-worker host limit (links.checking), and the link gap subtracts the
    domains of our own backlinks (links.Backlink). Prospects are created through
    outreach.services, which links may import. Its own label and migrations keep
    it independent of the other apps' migration histories.
    """

    name = "links.prospecting"
    label = "prospecting"
    verbose_name = "Prospecting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Binds the tasks that services and gap queue (config.enqueue).
        import links.prospecting.tasks  # noqa: F401
