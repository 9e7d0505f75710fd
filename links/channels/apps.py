from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    """Where alerts go: each campaign's and each user's alert channels (email
    digest, Slack, Microsoft Teams, signed webhooks) and the log of every
    delivery to them.

    Under ``links`` because alerts are links' (links.Alert), and the webhooks
    go out through the verifier's guarded fetcher, which only ``links`` may
    build with the project's settings. Its own label and migrations keep it
    apart from the other apps' migration histories.
    """

    name = "links.channels"
    label = "alert_channels"
    verbose_name = "Alert channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Binds the delivery task that services queue (config.enqueue).
        import links.channels.tasks  # noqa: F401
