"""Forms of the officials' pages. They parse and shape input; the rules live in the services.

Forms never save models: views hand ``cleaned_data`` to ``registry.services`` and map the
services' ``ValidationError`` dicts back onto the fields with :func:`apply_service_errors`.
Unknown POST keys are ignored (a form only reads its declared fields).
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from accounts.models import Agency, PostAssignment
from crossings.models import Place
from registry import reference
from registry.models import Person, TravelGroup
from registry.vocabulary import (
    COMMON_LANGUAGES,
    BirthPrecision,
    ConsentPurpose,
    DocumentKind,
    LegalBasis,
    Purpose,
    ReferralService,
    RegistrationStatus,
    Relationship,
    Sex,
    VulnerabilityKind,
)

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
PII = {"autocomplete": "off", "autocapitalize": "words", "spellcheck": "false"}


def _country_choices():
    return [("", "---------"), *countries]


def _blank(choices):
    return [("", "---------"), *choices]


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the matching fields (the rest on top)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def name_field(label, *, required: bool = False) -> forms.CharField:
    return forms.CharField(label=label, max_length=100, required=required, widget=forms.TextInput(attrs=PII))


class BirthFieldsMixin(forms.Form):
    """Date of birth known exactly, as a year only, or as an estimated age (skip logic in JS)."""

    birth_precision = forms.ChoiceField(
        label=_("Date of birth known as"), choices=BirthPrecision.choices, initial=BirthPrecision.EXACT,
        widget=forms.RadioSelect(attrs={"data-birth-precision": "1"}),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), required=False, input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off", "data-birth": "exact"}, format="%Y-%m-%d"),
    )
    birth_year = forms.IntegerField(
        label=_("Year of birth"), required=False, min_value=1, max_value=9999,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off", "data-birth": "year"}),
    )
    age = forms.IntegerField(
        label=_("Estimated age (years)"), required=False, min_value=0, max_value=150,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off", "data-birth": "estimated"}),
    )


class IdentityForm(BirthFieldsMixin):
    """Names, sex, birth and nationality: shared by the short form and the identity edit."""

    field_order = [
        "given_names", "first_surname", "second_surname", "sex", "birth_precision", "birth_date",
        "birth_year", "age", "nationality",
    ]
    given_names = name_field(_("Given names"), required=True)
    first_surname = name_field(_("First surname"))
    second_surname = name_field(_("Second surname"))
    sex = forms.ChoiceField(label=_("Sex"), choices=_blank(Sex.choices))
    nationality = forms.ChoiceField(label=_("Nationality"), choices=_country_choices, required=False)

    def person_data(self) -> dict:
        """The identity as the services take it (only the birth fields the precision uses)."""
        data = {key: self.cleaned_data.get(key) or "" for key in ("given_names", "first_surname", "second_surname", "sex", "nationality")}
        data["birth_precision"] = self.cleaned_data.get("birth_precision") or BirthPrecision.EXACT
        data["birth_date"] = self.cleaned_data.get("birth_date")
        data["birth_year"] = self.cleaned_data.get("birth_year")
        data["age"] = self.cleaned_data.get("age")
        return data


def registration_places(user):
    """Places the user may register at: their posts today; anywhere for supervisors and admins."""
    if user.has_role("admin", "supervisor"):
        return Place.objects.active()
    return Place.objects.filter(pk__in=user.current_place_ids())


def primary_place(user):
    assignment = PostAssignment.objects.current().filter(user=user).order_by("-is_primary", "starts_on").first()
    return assignment.place if assignment else None


class ShortRegistrationForm(IdentityForm):
    """Step 1: the few fields that create the draft at once (Primero's short form)."""

    place = forms.ModelChoiceField(label=_("Place"), queryset=Place.objects.none())
    registered_at = forms.DateTimeField(
        label=_("Date and time (local time of the place)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "autocomplete": "off"}, format="%Y-%m-%dT%H:%M"),
    )
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=_blank(LegalBasis.choices))
    submission_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = registration_places(user)
        if not self.is_bound:
            place = primary_place(user)
            self.initial.setdefault("place", place.pk if place else None)
            zone = ZoneInfo(place.time_zone) if place else timezone.get_current_timezone()
            self.initial.setdefault("registered_at", timezone.localtime(timezone.now(), zone).replace(second=0, microsecond=0, tzinfo=None))
            self.initial.setdefault("submission_token", uuid.uuid4())

    def clean(self):
        """The typed time is the place's local time, whatever the server's zone."""
        cleaned = super().clean()
        place, when = cleaned.get("place"), cleaned.get("registered_at")
        if place and when:
            naive = timezone.make_naive(when) if timezone.is_aware(when) else when
            cleaned["registered_at"] = naive.replace(tzinfo=ZoneInfo(place.time_zone))
        return cleaned


class PersonEditForm(IdentityForm):
    """Correct a person's identity; ``version`` carries what the user saw (optimistic lock)."""

    country_of_birth = forms.ChoiceField(label=_("Country of birth"), choices=_country_choices, required=False)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    @classmethod
    def initial_for(cls, person: Person) -> dict:
        return {
            "given_names": person.given_names, "first_surname": person.first_surname,
            "second_surname": person.second_surname, "sex": person.sex, "birth_precision": person.birth_precision,
            "birth_date": person.birth_date, "birth_year": person.birth_year, "nationality": str(person.nationality),
            "country_of_birth": str(person.country_of_birth), "version": person.version,
        }

    def changes(self) -> dict:
        data = self.person_data()
        if data["birth_precision"] != BirthPrecision.ESTIMATED:
            data.pop("age")
        data["country_of_birth"] = self.cleaned_data.get("country_of_birth") or ""
        return data


# --- details sub-forms -------------------------------------------------------------------------


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of document"), choices=_blank(DocumentKind.choices))
    number = forms.CharField(label=_("Number"), max_length=40, widget=forms.TextInput(attrs={**PII, "autocapitalize": "characters"}))
    issuing_country = forms.ChoiceField(label=_("Issuing country"), choices=_country_choices)
    expiry_date = forms.DateField(
        label=_("Expiry date"), required=False, input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    mrz = forms.CharField(
        label=_("MRZ (scan or paste the lines at the bottom of the document)"), required=False, max_length=200,
        widget=forms.Textarea(attrs={**PII, "rows": 3, "class": "font-monospace", "autocapitalize": "characters"}),
    )


class GroupForm(forms.Form):
    """Start a travel group with this person as head, or join one by its reference."""

    group_reference = forms.CharField(
        label=_("Group reference (empty to start a new group)"), max_length=20, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    relationship = forms.ChoiceField(label=_("Relationship to the head of the group"), choices=_blank(Relationship.choices))
    is_legal_guardian = forms.BooleanField(label=_("Documented legal guardian of the children in the group"), required=False)

    def __init__(self, *args, visible_people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.visible_people = visible_people

    def clean_group_reference(self) -> TravelGroup | None:
        """A group is found only if someone in it is visible to the user (no existence oracle)."""
        text = self.cleaned_data["group_reference"].strip()
        if not text:
            return None
        ref = reference.normalise(text)
        groups = TravelGroup.objects.filter(reference=ref, memberships__person__in=self.visible_people).distinct() if ref else []
        group = next(iter(groups), None)
        if group is None:
            raise ValidationError(_("No travel group with this reference among the people you can see."))
        return group


class LanguagesForm(forms.Form):
    languages = forms.MultipleChoiceField(
        label=_("Languages"), required=False, choices=list(COMMON_LANGUAGES.items()), widget=forms.CheckboxSelectMultiple,
    )
    other_languages = forms.CharField(
        label=_("Other languages (ISO 639-3 codes, separated by commas)"), required=False, max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "mop, ttc"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def codes(self) -> list[str]:
        others = [code.strip() for code in self.cleaned_data.get("other_languages", "").split(",") if code.strip()]
        return [*self.cleaned_data.get("languages", []), *others]


class TravelDetailsForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose of travel"), choices=_blank(Purpose.choices), required=False)
    destination_country = forms.ChoiceField(label=_("Intended destination country"), choices=_country_choices, required=False)
    destination_detail = forms.CharField(
        label=_("Intended destination (place)"), max_length=200, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    consent_purposes = forms.MultipleChoiceField(
        label=_("The person consents to"), choices=ConsentPurpose.choices, required=False, widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def changes(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("purpose", "destination_country", "destination_detail", "consent_purposes")}


class VulnerabilityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Vulnerability"), choices=_blank(VulnerabilityKind.choices))
    details = forms.CharField(
        label=_("Details (only seen by authorised staff)"), max_length=1000, required=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
    )


class ReferralForm(forms.Form):
    service = forms.ChoiceField(label=_("Service"), choices=_blank(ReferralService.choices))
    to_agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.filter(is_active=True), required=False)
    to_place = forms.ModelChoiceField(label=_("Or place (shelter...)"), queryset=Place.objects.active(), required=False)


class DuplicateDecisionForm(forms.Form):
    same = forms.TypedChoiceField(choices=[("1", _("Same person")), ("0", _("Different person"))], coerce=lambda v: v == "1")
    reason = forms.CharField(label=_("Why? (optional)"), max_length=300, required=False)


# --- search and review ------------------------------------------------------------------------


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, reference or document number"), max_length=200, required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "autofocus": True, "spellcheck": "false"}),
    )
    status = forms.ChoiceField(label=_("Registration status"), choices=_blank(RegistrationStatus.choices), required=False)
    place = forms.ModelChoiceField(label=_("Place"), queryset=Place.objects.all(), required=False, to_field_name="code")
    nationality = forms.ChoiceField(label=_("Nationality"), choices=_country_choices, required=False)

    def filtered(self) -> bool:
        return any(self.cleaned_data.get(key) for key in ("status", "place", "nationality"))


class ReviewForm(forms.Form):
    VERIFY, REJECT, CORRECT = "verify", "reject", "correct"
    decision = forms.ChoiceField(choices=[(VERIFY, _("Verify")), (REJECT, _("Reject")), (CORRECT, _("Request correction"))])
    reason = forms.CharField(label=_("Reason (required to reject or return)"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

