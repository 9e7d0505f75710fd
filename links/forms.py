from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from campaigns.models import Campaign, TargetPage
from outreach.models import Kind, Prospect


class TargetPageChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: TargetPage) -> str:
        return f"{obj.title} — {obj.url}" if obj.title else obj.url


class WonLinkForm(forms.Form):
    """The backlink a won prospect gave us; validated again by the service."""

    source_url = forms.CharField(
        label="Page with the link (source URL)",
        max_length=2000,
        widget=forms.URLInput(),
        help_text="The publisher's page where our link appears.",
    )
    target_page = TargetPageChoice(
        label="Target page", queryset=TargetPage.objects.none(), required=False
    )
    target_url = forms.CharField(
        label="Linked URL",
        max_length=2000,
        required=False,
        widget=forms.URLInput(),
        help_text="Only if the link points elsewhere than the target page itself "
        "(e.g. a page on a whole-domain target).",
    )
    anchor_text = forms.CharField(label="Expected anchor text", max_length=500, required=False)
    cost = forms.DecimalField(
        label="Cost", min_value=0, max_digits=10, decimal_places=2, required=False
    )
    won_on = forms.DateField(label="Won on", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["target_page"].queryset = campaign.target_pages.all()

    @classmethod
    def prefilled(cls, prospect: Prospect) -> WonLinkForm:
        """Source = the prospect's page; for a broken-link prospect the target page we
        offered; for a guest post its fee."""
        initial: dict[str, Any] = {"source_url": prospect.url, "won_on": timezone.localdate()}
        if prospect.kind == Kind.BROKEN_LINK and prospect.offered_target_id:
            initial["target_page"] = prospect.offered_target_id
        if prospect.fee is not None:
            initial["cost"] = prospect.fee
        return cls(initial=initial, campaign=prospect.campaign)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("target_page") and not data.get("target_url"):
            self.add_error("target_page", "Choose the target page, or enter the linked URL.")
        return data
