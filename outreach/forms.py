"""Input forms of the prospect pages. They validate and nothing else: the writes
are in ``outreach.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from outreach.models import OutreachActivity, Status
from outreach.services import MAX_BULK


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Status.choices)


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        label="What happened", choices=OutreachActivity.Kind.choices, initial="email_sent"
    )
    summary = forms.CharField(
        label="Summary",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: what you sent or what they said.",
    )
    next_follow_up = forms.DateField(
        label="Next follow-up",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to keep the current date.",
    )
    clear_follow_up = forms.BooleanField(label="No further follow-up", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # "Kind", not "Kind:"
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("clear_follow_up") and data.get("next_follow_up"):
            raise ValidationError("Either set a follow-up date or clear it, not both.")
        return data


class IdListField(forms.Field):
    """The ticked row checkboxes: many inputs named ``ids``."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        try:
            ids = [int(v) for v in value or []]
        except (TypeError, ValueError) as exc:
            raise ValidationError("The selection is not a list of prospects.") from exc
        if len(ids) > MAX_BULK:
            raise ValidationError(f"Select at most {MAX_BULK} prospects at a time.")
        return ids

    def validate(self, value: list[int]) -> None:
        if not value:
            raise ValidationError("Tick at least one prospect first.")


class BulkActionForm(forms.Form):
    ACTIONS = [
        ("assign", "Assign to"),
        ("status", "Change status to"),
        ("tag", "Add tag"),
        ("sequence", "Start email sequence"),
    ]

    ids = IdListField()
    action = forms.ChoiceField(label="Action", choices=ACTIONS)
    assignee = forms.RegexField(label="Assignee", required=False, regex=r"^(none|\d{1,18})$")
    status = forms.ChoiceField(label="New status", required=False, choices=Status.choices)
    tag = forms.CharField(label="Tag", required=False, max_length=60)
    template = forms.IntegerField(label="Template", required=False, min_value=1)
    mailbox = forms.IntegerField(label="Send from", required=False, min_value=1)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        needs = {
            "assign": ["assignee"],
            "status": ["status"],
            "tag": ["tag"],
            "sequence": ["template", "mailbox"],
        }.get(data.get("action"), [])
        for name in needs:
            if not data.get(name):
                self.add_error(name, "Choose a value for this action.")
        return data
