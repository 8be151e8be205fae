"""A request the service refuses, with the gRPC status code to answer."""

from __future__ import annotations

import grpc


class Refused(Exception):
    """Raised inside the service to end a call with ``code`` and ``message``.

    The message is sent to the client, so it must name the problem without
    echoing any input value (record ids, encodings, tokens).
    """

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
