"""Every exception appfn raises on purpose, in one place.

    AppFnError                      root: catch this to catch anything of ours
    ├── CatalogError                the event catalog
    │   ├── UnknownTriggerError     a trigger name that is not in the catalog
    │   └── ContextValidationError  a context or payload that breaks its schema (.violations)
    ├── ResponseContractError       a handler returned something that is not a valid response
    ├── FetchError                  outbound HTTP from a function failed (raised inside the function)
    │   ├── AdminApiError           the store's Admin API answered success: false (.status, .code, .fields)
    │   ├── EgressDeniedError       the egress policy refused the destination
    │   ├── FetchTimeoutError       the call ran past its timeout
    │   └── ResponseTooLargeError   the body passed the size cap
    ├── SandboxError                the runtime could not run a function
    │   ├── SandboxUnavailableError the requested isolation is not available on this host
    │   └── HandlerLoadError        the source does not load or has no usable handler (.line)
    │       └── TemplateMismatchError  a JS/TS first or last line is not the trigger's template
    ├── QueueError                  the job queue (appfn.queue)
    │   ├── QueueConfigError        a broker URL we cannot open: unknown scheme, missing extra
    │   └── QueueUnavailableError   the backend is unreachable or stayed locked (.backend)
    └── StoreError                  the persistence layer (appfn.store)
        ├── ValidationError         bad input, named by its field (.field, .errors)
        ├── NotFoundError           no such record, or not the caller's (.kind, .id)
        ├── ConflictError           breaks a uniqueness rule or the record's state (.kind)
        └── StoreUnavailableError   the database is unreachable, locked or not migrated

Exceptions carry the attributes a caller needs to act (violations, line, url) and a message
a person can read without them.
"""

from __future__ import annotations

from dataclasses import dataclass


class AppFnError(Exception):
    """Root of appfn's exceptions."""


class CatalogError(AppFnError):
    """A problem with the event catalog or with data checked against it."""


class UnknownTriggerError(CatalogError):
    def __init__(self, name: str, suggestions: list[str] | None = None) -> None:
        self.name = name
        self.suggestions = suggestions or []
        hint = f" (did you mean {', '.join(self.suggestions)}?)" if self.suggestions else ""
        super().__init__(f"unknown trigger {name!r}{hint}")


@dataclass(frozen=True)
class Violation:
    """One schema violation: where it is (a dotted JSON path) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ContextValidationError(CatalogError):
    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"{len(violations)} schema violation(s):\n{lines}")


class ResponseContractError(AppFnError):
    """The handler's return value does not follow the response contract."""


class FetchError(AppFnError):
    """Outbound HTTP made through ``context.fetch`` failed."""

    def __init__(self, message: str, url: str | None = None) -> None:
        self.url = url
        super().__init__(message)


class AdminApiError(FetchError):
    def __init__(
        self, message: str, url: str | None = None, *, status: int = 0, code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:  # fmt: skip
        self.status = status
        self.code = code
        self.fields = fields or {}
        super().__init__(message, url)


class EgressDeniedError(FetchError):
    pass


class FetchTimeoutError(FetchError):
    pass


class ResponseTooLargeError(FetchError):
    pass


class SandboxError(AppFnError):
    """The runtime could not run a function."""


class SandboxUnavailableError(SandboxError):
    pass


class HandlerLoadError(SandboxError):
    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


class TemplateMismatchError(HandlerLoadError):
    """The first or last line is not the trigger's template line; ``expected_first``/``expected_last`` say what is."""

    def __init__(self, message: str, line: int, expected_first: str, expected_last: str) -> None:
        super().__init__(message, line)
        self.expected_first = expected_first
        self.expected_last = expected_last


class QueueError(AppFnError):
    """A problem with the job queue."""


class QueueConfigError(QueueError):
    """A broker URL that cannot be opened: unknown scheme, bad path, missing optional extra."""


class QueueUnavailableError(QueueError):
    """The backend could not be reached or stayed locked.

    The operation failed; whether it was applied is unknown when a connection dropped mid-call.
    """

    def __init__(self, message: str, backend: str) -> None:
        self.backend = backend
        super().__init__(f"{backend} queue unavailable: {message}")


class StoreError(AppFnError):
    """A problem in the persistence layer (``appfn.store``)."""


class ValidationError(StoreError):
    """Input the store refuses. ``field`` names the first bad field (``settings_schema[2].id``);
    ``errors`` lists every ``(field, message)`` found, when the check collects more than one."""

    def __init__(self, field: str, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        self.field = field
        self.errors = errors or [(field, message)]
        super().__init__("; ".join(f"{f}: {m}" for f, m in self.errors))


class NotFoundError(StoreError):
    """No such record, or one the caller may not see (the message does not tell which)."""

    def __init__(self, kind: str, id: object) -> None:
        self.kind = kind
        self.id = id
        super().__init__(f"{kind} {id!r} not found")


class ConflictError(StoreError):
    """The change breaks a uniqueness rule or does not fit the record's current state."""

    def __init__(self, message: str, kind: str | None = None) -> None:
        self.kind = kind
        super().__init__(message)


class StoreUnavailableError(StoreError):
    """The database could not be reached, stayed locked, or its schema is not at head."""
