"""The one error type of the services: a rule said no, with a protocol error code."""

from typing import Any


class ChatError(Exception):
    """A rule said no; `code` is an error code of docs/protocol.md, which callers pass on."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        retry_after: float | None = None,
        client_id: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        self.client_id = client_id


def settle(outcome: Any) -> Any:
    """One outcome of a batch call, as a single call has it: returned, or raised if refused."""
    if isinstance(outcome, ChatError):
        raise outcome
    return outcome
