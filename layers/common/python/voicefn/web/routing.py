"""Routers whose routes return plain JSON-able values, with no response model.

FastAPI infers a response model from each endpoint's return annotation (``-> dict[str, Any]``)
and builds a pydantic field for it: that costs import time (it even loads ``pydantic.v1`` to
check the model's version) and a validation pass per response, for nothing: our endpoints build
their JSON themselves. A route that wants a response model still passes one explicitly.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute


class PlainRoute(APIRoute):
    def __init__(self, path: str, endpoint: Any, *, response_model: Any = None, **kwargs: Any) -> None:
        if isinstance(response_model, DefaultPlaceholder):
            response_model = None  # not inferred from the return annotation
        super().__init__(path, endpoint, response_model=response_model, **kwargs)


def plain_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=PlainRoute, **kwargs)
