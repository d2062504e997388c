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


class Interrupted(KeyboardInterrupt):
    """A signal (SIGINT, SIGTERM, SIGHUP) ended the run: raised in the main thread, it unwinds like Ctrl-C, so every
    `with`/`finally` on the way removes its temporaries; the CLI exits with 128 + the signal number.

    A `KeyboardInterrupt`, not an `Exception`: `except Exception` blocks on the way must not swallow it.
    """

    def __init__(self, signum: int):
        import signal

        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        try:
            name = signal.Signals(self.signum).name
        except ValueError:  # pragma: no cover - a number without a name
            name = f"signal {self.signum}"
        self.name = name
        super().__init__(f"interrupted by {name}")


# ---- naming a field in the face's own words ------------------------------------------------------------------
def field(name: str, value: object = None) -> str:
    """How a message names a request field (optionally with the value to give it): `overwrite=true`.

    Each face rewrites these marks in its own words (`in_face_words`): the CLI says `--overwrite`, the MCP face
    says `overwrite=true`, a library caller reads the field name.

    >>> f"pass {field('make_private', True)} to flip it"
    'pass `make_private=true` to flip it'
    """
    if value is None:
        return f"`{name}`"
    shown = "true" if value is True else "false" if value is False else str(value)
    return f"`{name}={shown}`"


def in_face_words(text: str, rename) -> str:
    """`text` with every field mark (`name` or `name=value`, and the older `name (--flag)` form) renamed.

    `rename(name, value)` returns the face's words for a field, or None to leave a mark as it is (a backticked word
    that is no field of this face, such as a column name).
    """
    import re

    def dual(m: re.Match) -> str:  # `overwrite (--overwrite)`: a message written for both faces at once
        return rename(m.group(1), None) or m.group(0)

    def mark(m: re.Match) -> str:
        return rename(m.group(1), m.group(2)) or m.group(0)

    text = re.sub(r"\b([a-z][a-z0-9_]*) \(--[a-z0-9-]+\)", dual, text)
    return re.sub(r"`([a-z][a-z0-9_]*)(?:=([^`]*))?`", mark, text)
