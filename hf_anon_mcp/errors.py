"""One small tree of named errors, raised deep and turned into an exit code or a tool error once, at each face.

Messages must never carry raw cell values or tokens: they reach a language model or a log file.
"""


class HfAnonError(Exception):
    """Base of every error this package raises on purpose; `str(err)` is a one-line message safe to show."""

    kind = "error"
    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} ({hint})")


class InputError(HfAnonError):
    """The source, a column, a path or an argument is wrong."""

    kind = "input"


class OfflineError(InputError):
    """A Hub source was asked for while the Hub cannot be reached."""

    kind = "offline"


class PolicyError(HfAnonError):
    """An anonymization policy (or a key or salt it needs) is invalid."""

    kind = "policy"


class AccessError(HfAnonError):
    """A path outside the allowed roots, an unwritable folder, or a token without the needed rights."""

    kind = "access"


class UnsafePushError(HfAnonError):
    """A push was refused because it would publish data that is not safe to publish."""

    kind = "unsafe-push"


class HubServiceError(HfAnonError):
    """The Hub answered with an error this package cannot act on (5xx, unexpected 4xx, no answer)."""

    kind = "hub"


class CancelledError(HfAnonError):
    """A long run was cancelled by its caller; nothing was written."""

    kind = "cancelled"
