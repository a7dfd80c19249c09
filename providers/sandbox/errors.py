"""The one error the sandbox's answers raise, in OpenAI's (and LM Studio's) shape.

LM Studio answers a bad call with `{"error": {message, type, param, code}}`,
404 for a model it does not know; the sandbox does the same so adapters meet
the bodies they will meet in production.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def bad_request(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, param=param)


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f'Model "{model}" not found. Please specify a valid model.',
        param="model",
        code="model_not_found",
    )
