"""The one base class for privacy failures that must fail closed.

Both :class:`privacy.crypto.DecryptionError` and :class:`privacy.access_log.AccessLogError`
derive from it, so ``FailClosedMiddleware`` and the API's exception handler need to know one
class only. Messages never carry personal data or ciphertext: they are for operators' logs.
"""


class FailClosedError(Exception):
    """Personal data cannot be served safely right now; answer 503 and show nothing."""
