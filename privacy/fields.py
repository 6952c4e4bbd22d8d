"""Model fields that store each value encrypted (AES-256-GCM, see ``privacy.crypto``).

The database column is always ``text`` holding ``fx1:<key id>:<base64>``; SQL never sees the
plaintext. Consequences, by design:

* Only ``isnull`` (and ``= None``, which Django turns into ``isnull``) can be used in queries.
  Any other lookup or transform raises ``FieldError``: a ``LIKE`` on ciphertext would be both
  useless and a sign that someone is trying to search personal data without a blind index.
* ``unique``, ``db_index`` and ``primary_key`` are refused: ciphertexts are randomised.
* The associated data is ``<db_table>.<column>``: a ciphertext only decrypts in the column it
  was written to. Renaming the table or column therefore needs a re-encryption data migration.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from privacy import crypto

_REFUSED_OPTIONS = ("primary_key", "unique", "db_index")


class NullOnlyExact(Exact):
    """``field=None`` is allowed (Django rewrites it to ``isnull``); any other value is not."""

    def __init__(self, lhs, rhs):
        if rhs is not None:
            raise FieldError(_lookup_message(lhs.output_field, "exact"))
        super().__init__(lhs, rhs)


def _lookup_message(field: models.Field, lookup: str) -> str:
    return (
        f"Encrypted field '{field.name}' supports only the 'isnull' lookup, not '{lookup}'. "
        "Search personal data through its blind index (privacy.blind_index)."
    )


class EncryptedFieldMixin:
    """Encrypts on the way to the database and decrypts on the way back; fails closed."""

    encrypted = True
    json_encoder: type[json.JSONEncoder] | None = None
    json_decoder: type[json.JSONDecoder] | None = None

    def __init__(self, *args, **kwargs):
        for option in _REFUSED_OPTIONS:
            if kwargs.get(option):
                raise TypeError(
                    f"{type(self).__name__} cannot be {option}: ciphertexts are randomised."
                )
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "TextField"

    @property
    def associated_data(self) -> str:
        """Binds ciphertexts to this table and column. A change-history copy (a simple-history
        ``Historical*`` model) is bound like the column it copies: on PostgreSQL a trigger copies
        the stored ciphertext as it is (it has no keys), and the values are that column's own
        earlier values (SECURITY.md LG-2; privacy migration 0006 moved older history rows)."""
        from simple_history.models import HistoricalChanges

        model = self.model
        if issubclass(model, HistoricalChanges) and hasattr(model, "instance_type"):
            model = model.instance_type
        return f"{model._meta.db_table}.{self.column}"

    def value_to_json(self, value: Any) -> Any:
        """The JSON-able form of an already prepared Python value."""
        return value

    def value_from_json(self, value: Any) -> Any:
        """The Python value back from its JSON form."""
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt_value(
            self.value_to_json(value), self.associated_data, encoder=self.json_encoder
        )

    def from_db_value(self, value, expression, connection):
        return self.decrypt_column([value])[0]

    def decrypt_column(self, values) -> list:
        """The Python values of many stored values of this column (``None`` stays ``None``),
        the key and binding looked up once (``crypto.decrypt_values``)."""
        values = list(values)
        plain = crypto.decrypt_values(values, self.associated_data, decoder=self.json_decoder)
        return [None if token is None else self.value_from_json(value) for token, value in zip(values, plain, strict=True)]

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        if lookup_name == "exact":
            return NullOnlyExact
        raise FieldError(_lookup_message(self, lookup_name))

    def get_transform(self, lookup_name):
        raise FieldError(_lookup_message(self, lookup_name))


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    """Free text (notes, narratives), encrypted per value."""

    description = _("Encrypted text")
    default_validators = [validators.ProhibitNullCharactersValidator()]


class EncryptedCharField(EncryptedFieldMixin, models.CharField):
    """Short text (names, document numbers). ``max_length`` counts plaintext characters;
    the column itself is ``text`` because ciphertext is longer than the plaintext."""

    description = _("Encrypted short text")
    default_validators = [validators.ProhibitNullCharactersValidator()]

    def __init__(self, *args, **kwargs):
        if kwargs.get("max_length") is None:
            raise TypeError("EncryptedCharField requires max_length (checked on the plaintext).")
        super().__init__(*args, **kwargs)


class EncryptedDateField(EncryptedFieldMixin, models.DateField):
    """A date (e.g. date of birth) stored encrypted as its ISO form; no range queries."""

    description = _("Encrypted date")

    def value_to_json(self, value: datetime.date) -> str:
        return value.isoformat()

    def value_from_json(self, value: Any) -> datetime.date:
        try:
            return datetime.date.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise crypto.DecryptionError("decrypted value is not an ISO date") from exc


class EncryptedJSONField(EncryptedFieldMixin, models.Field):
    """Structured data (e.g. vulnerability details) stored as one encrypted JSON document.

    ``encoder`` / ``decoder`` work as on ``models.JSONField``. Keys cannot be queried.
    """

    description = _("Encrypted JSON")
    empty_strings_allowed = False
    default_error_messages = {"invalid": _("Value must be valid JSON.")}

    def __init__(self, *args, encoder=None, decoder=None, **kwargs):
        self.json_encoder = encoder
        self.json_decoder = decoder
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.json_encoder is not None:
            kwargs["encoder"] = self.json_encoder
        if self.json_decoder is not None:
            kwargs["decoder"] = self.json_decoder
        return name, path, args, kwargs

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        try:
            json.dumps(value, cls=self.json_encoder)
        except TypeError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc

    def formfield(self, **kwargs):
        defaults = {
            "form_class": forms.JSONField,
            "encoder": self.json_encoder,
            "decoder": self.json_decoder,
        }
        return super().formfield(**{**defaults, **kwargs})
