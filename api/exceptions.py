"""The API's exception handler: drf-standardized-errors' problem details, plus

* privacy failures (``FailClosedError``: decryption or access-log failure) → the data-free 503 of
  ``privacy.middleware.fail_closed_response`` (DRF catches exceptions before any middleware);
* Django's ``RequestDataTooBig`` (over ``DATA_UPLOAD_MAX_MEMORY_SIZE``) → JSON 413, not HTML 400;
* Django ``ValidationError`` from domain services → 400 with field paths, or 422 for an
  idempotency conflict (``transit.services.IdempotencyConflict``).
"""

from __future__ import annotations

import structlog
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, status
from rest_framework.views import set_rollback

from api.parsers import PayloadTooLarge
from privacy.errors import FailClosedError
from privacy.middleware import fail_closed_response

logger = structlog.get_logger(__name__)


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request conflicts with an earlier one.")
    default_code = "unprocessable"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("A request with this idempotency key is still being processed.")
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The resource changed since you read it (If-Match does not match the ETag).")
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = _("Send If-Match with the ETag you read.")
    default_code = "precondition_required"


def django_validation_error(exc: DjangoValidationError) -> exceptions.APIException:
    """A service's ValidationError as the API error it means."""
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    if type(exc).__name__ == "IdempotencyConflict":
        return Unprocessable(detail={k: [str(m) for m in v] for k, v in detail.items()})
    return exceptions.ValidationError(detail)


class APIExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge()
        if isinstance(exc, DjangoValidationError):
            return django_validation_error(exc)
        return super().convert_known_exceptions(exc)


def exception_handler(exc: Exception, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]."""
    if isinstance(exc, FailClosedError):
        set_rollback()
        logger.error("privacy.fail_closed", error=type(exc).__name__)
        return fail_closed_response(context["request"])
    return APIExceptionHandler(exc, context).run()
