"""The published OpenAPI document (``GET /openapi.json``) of the JSON API and ``/v1``.

FastAPI documents what a route's signature says. The routes that read their body by hand
(so that errors keep OpenAI's shape on ``/v1``) get their request model added here, and
every operation lists the errors the app answers with and their shapes, so a client (or
``schemathesis`` in the tests) can check every answer against the document.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from accord.accounts import PUBLIC
from accord.serve._permissions import Viewer, _api_routes, guard

router = APIRouter()
_ERROR_TEXT = {"400": "Bad request", "401": "Not signed in", "403": "Forbidden",
               "404": "Not found", "405": "Method not allowed", "409": "Conflict",
               "413": "Body too large", "422": "Not acceptable", "429": "Too many requests",
               "500": "Server error (the message names a logged error id)"}
_API_ERROR = {"type": "object", "required": ["error"],
              "properties": {"error": {"type": "string"}}}
_OPENAI_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["message", "type", "param", "code"],
    "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                   "param": {"type": ["string", "null"]},
                   "code": {"type": ["string", "null"]}}}}}
_VALIDATION = {"$ref": "#/components/schemas/HTTPValidationError"}


@router.get("/openapi.json", include_in_schema=False)
def openapi_document(request: Request, viewer: Viewer = guard(PUBLIC)) -> JSONResponse:
    return JSONResponse(openapi_of(request.app))


def _body_models() -> dict[tuple[str, str], type[BaseModel]]:
    """Routes that parse their JSON body themselves, and the model they parse it into."""
    from accord.serve import _chat, _v1, _v1_bodies

    return {("post", "/v1/chat/completions"): _v1.ChatBody,
            ("post", "/v1/completions"): _v1_bodies.CompletionBody,
            ("post", "/v1/feedback"): _v1.FeedbackBody,
            ("post", "/api/chat"): _chat.ChatBody,
            ("post", "/api/chat/feedback"): _chat.FeedbackBody,
            ("post", "/api/chat/profile"): _chat.ProfileBody}


_STREAMS = {("post", "/v1/chat/completions"), ("post", "/api/chat")}


def openapi_of(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app``'s ``/api`` and ``/v1`` routes (built once).

    Args:
        app: the app ``create_app`` built.
    """
    if app.openapi_schema is not None:
        return app.openapi_schema
    routes = [r for r in _api_routes(app.routes) if r.path.startswith(("/api/", "/v1/"))]
    schema = get_openapi(title=app.title, version="1", routes=routes,
                         description="Accord's JSON API (`/api`, session cookie and "
                         "`x-csrf-token`) and OpenAI-compatible API (`/v1`, bearer key).")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("HTTPValidationError", {
        "type": "object", "properties": {"detail": {"type": "array", "items": {
            "type": "object"}}}})
    models = _body_models()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            model = models.get((method, path))
            if model is not None:
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(body.pop("$defs", {}))
                components[model.__name__ + ("V1" if path.startswith("/v1/") else "")] = body
                operation["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": body}}}
            responses = operation.setdefault("responses", {})
            if (method, path) in _STREAMS:
                responses["200"] = {"description": "The answer; as server-sent events when "
                                    "streamed", "content": {"application/json": {"schema": {}},
                                                           "text/event-stream": {"schema": {}}}}
            for code, text in _ERROR_TEXT.items():
                if path.startswith("/v1/"):
                    shape = _OPENAI_ERROR
                elif code == "422":  # FastAPI's own (path, query, body) or a package's
                    shape = {"anyOf": [_VALIDATION, _API_ERROR]}
                else:
                    shape = _API_ERROR
                responses[code] = {"description": responses.get(code, {}).get(
                    "description", text), "content": {"application/json": {"schema": shape}}}
    app.openapi_schema = schema
    return schema
