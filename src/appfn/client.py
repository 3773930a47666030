"""A small client for appfn's HTTP API (what ``appfn deploy``, ``logs`` and ``emit`` use).

    from appfn.client import Client, ClientError

    with Client() as api:                          # APPFN_URL / APPFN_KEY, or the defaults
        saved = api.save_function("app_...", "customer.created", source, language="python")
        job = api.deploy_job(saved["deploy"]["id"])

The base URL and key come from the arguments, else ``APPFN_URL`` and ``APPFN_KEY``; the URL
defaults to ``http://127.0.0.1:8700`` (what ``appfn serve`` listens on). Every failure is one
exception, :class:`ClientError`: ``status`` is the HTTP status of an error answer
(``{"error", "detail"}``) or None when no answer came (server unreachable, timeout), and
``str(exc)`` is a readable one-line-or-so message that folds in the answer's detail
(violations with their paths, close trigger names, the field or line at fault).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:8700"
URL_ENV = "APPFN_URL"
KEY_ENV = "APPFN_KEY"
DEFAULT_TIMEOUT_S = 30.0
_MAX_VIOLATIONS = 20


class ClientError(Exception):
    """An error answer of the API (``status`` set) or no answer at all (``status`` None)."""

    def __init__(self, message: str, *, status: int | None = None, error: str | None = None, detail: Any = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.error = error if error is not None else message
        self.detail = detail

    @property
    def unreachable(self) -> bool:
        return self.status is None

    @property
    def is_bad_input(self) -> bool:
        """The request itself was at fault (4xx other than 408 and 429): fix it and retry."""
        return self.status is not None and 400 <= self.status < 500 and self.status not in (408, 429)


class Client:
    """A synchronous client of one appfn server. Use it as a context manager (or ``close()``)."""

    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        self.url = (url or environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
        self.key = key or environ.get(KEY_ENV) or None
        if not self.url.startswith(("http://", "https://")):
            raise ClientError(f"the server URL must start with http:// or https://, got {self.url!r}", status=400)
        headers = {"Accept": "application/json", "User-Agent": "appfn-cli"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- raw ------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json_body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """The decoded JSON answer (None for an empty one); a :class:`ClientError` otherwise."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            answer = self._http.request(method, path, json=json_body, params=query or None)
        except httpx.TimeoutException:
            raise ClientError(f"the appfn server at {self.url} did not answer in time ({method} {path})") from None
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise ClientError(f"cannot reach the appfn server at {self.url}: {reason}") from None
        if answer.is_success:
            if not answer.content:
                return None
            try:
                return answer.json()
            except ValueError:
                raise ClientError(
                    f"the server at {self.url} answered {method} {path} with something that is not JSON",
                    status=answer.status_code,
                ) from None
        raise _error_of(answer)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json_body=body)

    # --- the API --------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self.get("/healthz")

    def trigger(self, name: str) -> dict[str, Any]:
        """A catalog entry with its payload.data ``schema`` and ``example``."""
        return self.get(f"/v1/triggers/{_seg(name)}")

    def save_function(
        self,
        app_id: str,
        trigger: str,
        source: str,
        *,
        language: str = "python",
        filename: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """A new version (or the identical one already saved) and its deploy job."""
        body = {"source": source, "language": language, "filename": filename, "name": name}
        body = {k: v for k, v in body.items() if v is not None}
        return self.request("PUT", f"/v1/apps/{_seg(app_id)}/functions/{_seg(trigger)}", json_body=body)

    def deploy_job(self, job_id: str) -> dict[str, Any]:
        return self.get(f"/v1/deploys/{_seg(job_id)}")

    def executions(self, **filters: Any) -> dict[str, Any]:
        """One page, newest first: ``{"items", "next_cursor"}``. Filters as the API names them."""
        return self.get("/v1/executions", **filters)

    def send_event(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.post("/v1/events", event)

    def run_action(self, trigger: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.post(f"/v1/actions/{_seg(trigger)}", body)


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _error_of(answer: httpx.Response) -> ClientError:
    status = answer.status_code
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        error = str(body.get("error") or f"HTTP {status}")
        detail = body.get("detail")
    else:
        text = answer.text.strip().splitlines()[0][:200] if answer.text.strip() else answer.reason_phrase
        error, detail = f"HTTP {status}: {text}", None
    message = error + describe_detail(detail, error)
    if status == 401:
        message += " (pass --key or set APPFN_KEY)"
    elif status == 429 and answer.headers.get("retry-after"):
        message += f" (retry after {answer.headers['retry-after']} s)"
    return ClientError(message, status=status, error=error, detail=detail)


def describe_detail(detail: Any, error: str = "") -> str:
    """The ``detail`` of an error answer as text to append to its ``error``."""
    if detail is None or detail == "" or detail == {} or detail == []:
        return ""
    if isinstance(detail, str):
        return f": {detail}"
    if isinstance(detail, list):
        lines = [_violation(v) for v in detail[:_MAX_VIOLATIONS]]
        if len(detail) > _MAX_VIOLATIONS:
            lines.append(f"... and {len(detail) - _MAX_VIOLATIONS} more")
        return ":\n" + "\n".join(f"  {line}" for line in lines)
    if isinstance(detail, dict):
        if "suggestions" in detail:
            names = [str(s) for s in detail.get("suggestions") or []]
            return f" (did you mean {', '.join(names)}?)" if names and "did you mean" not in error else ""
        if detail.get("field"):
            return f" (field {detail['field']})"
        if detail.get("line"):
            return f" (line {detail['line']})"
    return f": {json.dumps(detail, ensure_ascii=False)}"


def _violation(item: Any) -> str:
    if isinstance(item, dict) and "message" in item:
        path = item.get("path")
        return f"{path}: {item['message']}" if path else str(item["message"])
    return json.dumps(item, ensure_ascii=False) if not isinstance(item, str) else item
