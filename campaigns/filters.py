"""The base of a list page's filter form (prospects, backlinks)."""

from __future__ import annotations

from typing import Any

from django import forms


class ListFilterForm(forms.Form):
    """Filters read from a list page's query string. A field named ``sort``
    orders the list; every other field narrows it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # "Kind", not "Kind:"
        super().__init__(*args, **kwargs)

    def valid_values(self) -> dict[str, Any]:
        """The filters that passed validation; a bad value drops that filter only,
        so one typo in a shared link does not blank the whole table."""
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if k not in self.errors}

    @property
    def is_filtered(self) -> bool:
        """Whether any filter but the order narrows the list (and its total)."""
        values = self.valid_values()
        return any(values.get(name) not in (None, "") for name in self.fields if name != "sort")
