from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"

    def ready(self) -> None:
        # Binds the tasks that services queue through config.enqueue.
        import outreach.tasks  # noqa: F401
