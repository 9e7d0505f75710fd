from django.apps import AppConfig


class JournalistQueriesConfig(AppConfig):
    """Journalist queries (HARO, Qwoted, Featured, SourceBottle...) read from a
    mailbox or pasted, split into queries, made into haro prospects.

    Part of outreach: it needs nothing from links. Its own label and migrations
    keep it independent of outreach's migration history.
    """

    name = "outreach.journalist_queries"
    # The label it had as outreach.inbox: its tables (inbox_*), migrations and
    # beat row keep their names, and so does the URL namespace.
    label = "inbox"
    verbose_name = "Journalist-query inbox"
    default_auto_field = "django.db.models.BigAutoField"
