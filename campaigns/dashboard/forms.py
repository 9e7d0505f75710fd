from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from campaigns.dashboard.charts import Period


class PeriodForm(forms.Form):
    """The dashboard's date range, from GET. Both ends are optional: no end means
    today, no start means the DEFAULT_DAYS before the end."""

    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: object, today: date | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        end = cleaned.get("end") or self.today
        start = cleaned.get("start") or end - timedelta(days=Period.DEFAULT_DAYS - 1)
        if end > self.today:
            self.add_error("end", "The end date cannot be after today.")
        elif start > end:
            self.add_error("start", "The start date must be on or before the end date.")
        elif (end - start).days + 1 > Period.MAX_DAYS:
            self.add_error("start", f"Choose at most {Period.MAX_DAYS} days (two years) at a time.")
        else:
            cleaned["period"] = Period(start=start, end=end)
        return cleaned

    def full_clean(self) -> None:
        super().full_clean()
        # Screen readers announce the error with the field it belongs to.
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"id_{name}_errors"}
                )

    @property
    def period(self) -> Period:
        return self.cleaned_data["period"]

    @property
    def presets(self) -> list[tuple[str, str]]:
        """(label, query string) for the usual ranges, ending today."""
        return [
            (label, urlencode({"start": self.today - timedelta(days=days - 1), "end": self.today}))
            for label, days in [
                ("Last 30 days", 30),
                ("Last 90 days", 90),
                ("Last 12 months", 365),
                ("Last 2 years", 730),
            ]
        ]
