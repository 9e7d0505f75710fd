from django.urls import path

from outreach import views
from outreach.email import views as email_views

app_name = "outreach"

urlpatterns = [
    path("campaigns/<slug:slug>/prospects/", views.prospect_list, name="prospect_list"),
    path("campaigns/<slug:slug>/prospects/bulk/", views.prospect_bulk, name="prospect_bulk"),
    path(
        "campaigns/<slug:slug>/prospects/<int:pk>/", views.prospect_detail, name="prospect_detail"
    ),
    path(
        "campaigns/<slug:slug>/prospects/<int:pk>/status/",
        views.prospect_status,
        name="prospect_status",
    ),
    path(
        "campaigns/<slug:slug>/prospects/<int:pk>/activity/",
        views.prospect_activity,
        name="prospect_activity",
    ),
]

# Outreach email
urlpatterns += [
    path(
        "campaigns/<slug:slug>/templates/",
        email_views.template_list,
        name="email_templates",
    ),
    path(
        "campaigns/<slug:slug>/templates/new/",
        email_views.template_create,
        name="email_template_create",
    ),
    path(
        "campaigns/<slug:slug>/templates/<int:pk>/",
        email_views.template_edit,
        name="email_template_edit",
    ),
    path(
        "campaigns/<slug:slug>/prospects/<int:pk>/email/preview/",
        email_views.email_preview,
        name="email_preview",
    ),
    path(
        "campaigns/<slug:slug>/prospects/<int:pk>/email/start/",
        email_views.email_start,
        name="email_start",
    ),
    path(
        "campaigns/<slug:slug>/prospects/<int:pk>/email/contact-valid/",
        email_views.contact_valid,
        name="contact_valid",
    ),
    path(
        "campaigns/<slug:slug>/sequences/<int:pk>/stop/",
        email_views.sequence_stop,
        name="sequence_stop",
    ),
    path(
        "campaigns/<slug:slug>/emails/<int:pk>/resolve/",
        email_views.email_resolve,
        name="email_resolve",
    ),
    path(
        "campaigns/<slug:slug>/outreach-stats/",
        email_views.outreach_stats,
        name="outreach_stats",
    ),
    path("outreach/mailboxes/", email_views.mailbox_list, name="mailbox_list"),
    path("outreach/mailboxes/new/", email_views.mailbox_create, name="mailbox_create"),
    path("outreach/mailboxes/<int:pk>/", email_views.mailbox_edit, name="mailbox_edit"),
    path("outreach/do-not-contact/", email_views.do_not_contact, name="do_not_contact"),
    path(
        "outreach/do-not-contact/<int:pk>/delete/",
        email_views.do_not_contact_delete,
        name="do_not_contact_delete",
    ),
]
