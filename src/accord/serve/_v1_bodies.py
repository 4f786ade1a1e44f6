"""The request bodies of ``/v1``: every field OpenAI's API defines is known here, so a
client's everyday request (the official SDK's, Inspect's, lm-eval's) validates; a field
that OpenAI does not define is refused (400 ``unrecognized request argument``), as OpenAI
does, so a typo never passes silently. What Accord cannot do (tools on a model without
tool training, JSON modes, logit bias, audio) is refused by :func:`unsupported` with a
message that says why. docs/serve.md lists each field and what Accord does with it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Per position, like vLLM's max_logprobs (OpenAI allows 20): enough to list the whole
# vocabulary of a small judge, so an endpoint judge reads the exact distribution.
MAX_TOP_LOGPROBS = 1000
MAX_CHOICES = 8
TEXT_PARTS = ("text", "refusal")


class Part(BaseModel):
    """A content part; only text (and an assistant's refusal) can be read by the model."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None
    refusal: str | None = None


class Message(BaseModel):
    """A chat message as OpenAI defines it (incl. what the SDK sends back of a reply)."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[Part] | None = None
    name: str | None = None
    refusal: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    function_call: dict[str, Any] | None = None
    tool_call_id: str | None = None
    audio: dict[str, Any] | None = None
    annotations: list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text (an assistant's refusal when it has no content)."""
        if self.content is None:
            return self.refusal or ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text or p.refusal or "" for p in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_usage: bool = False
    include_obfuscation: bool | None = None  # accepted; Accord never pads chunks


class ChatBody(BaseModel):
    """``POST /v1/chat/completions``; see the module docstring for unknown fields."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    n: int | None = Field(None, ge=1, le=MAX_CHOICES)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    stop: str | list[str] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    functions: list[dict[str, Any]] | None = None  # OpenAI's deprecated tools
    function_call: str | dict[str, Any] | None = None
    logit_bias: dict[str, float] | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)  # accepted, not used
    frequency_penalty: float | None = Field(None, ge=-2, le=2)  # accepted, not used
    # Accepted and recorded nowhere beyond the stored answer (docs/serve.md).
    store: bool | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, Any] | None = None
    reasoning_effort: str | None = None  # the model does not reason: no effect
    verbosity: str | None = None
    service_tier: str | None = None
    moderation: Any = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    profile: dict[str, Any] | str | None = None  # Accord: settings or a saved profile name


class CompletionBody(BaseModel):
    """``POST /v1/completions`` (the legacy text completion API lm-eval-style bridges use)."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1)
    prompt: str | list[str] | list[int] | list[list[int]]
    max_tokens: int | None = Field(16, ge=0)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    n: int | None = Field(None, ge=1, le=MAX_CHOICES)
    best_of: int | None = Field(None, ge=1, le=MAX_CHOICES)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    stop: str | list[str] | None = None
    logprobs: int | None = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    echo: bool | None = False
    suffix: str | None = None
    logit_bias: dict[str, float] | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    user: str | None = None


def unsupported(body: ChatBody | CompletionBody) -> tuple[str, str] | None:
    """The first requested feature Accord's models cannot honour, as ``(param, message)``;
    ``None`` when every field can be served."""
    if body.logit_bias:
        return ("logit_bias", "logit_bias is not supported: Accord samples from the model's "
                "own distribution (the bounds are screened on what it writes); send {} or "
                "leave it out")
    if isinstance(body, CompletionBody):
        if body.suffix:
            return "suffix", "suffix (insertion) is not supported by these models"
        if body.stream:
            return "stream", "streaming is not supported on /v1/completions; use " \
                             "/v1/chat/completions to stream"
        return None
    fmt = (body.response_format or {}).get("type", "text")
    if fmt != "text":
        return ("response_format", f"response_format {fmt!r} is not supported: the model "
                "has no JSON-mode or structured-output training; use {'type': 'text'}")
    wants_tools = (body.tools or body.functions) and body.tool_choice != "none" \
        and body.function_call != "none"
    if wants_tools or isinstance(body.tool_choice, dict) or body.tool_choice == "required":
        return ("tools", f"model {body.model!r} has no tool training: tools and function "
                "calling are not supported (send tool_choice 'none' or no tools)")
    if body.audio or (body.modalities and set(body.modalities) != {"text"}):
        return "modalities", "these models read and write text only"
    if body.prediction:
        return "prediction", "predicted outputs are not supported"
    if body.web_search_options is not None:
        return "web_search_options", "web search is not available on this server"
    if body.stream and (body.n or 1) > 1:
        return "n", "n > 1 is not supported with stream; send n=1 or stream=false"
    for i, m in enumerate(body.messages):
        for j, part in enumerate(m.content if isinstance(m.content, list) else []):
            if part.type not in TEXT_PARTS:
                return (f"messages[{i}].content[{j}]", f"content part type {part.type!r} is "
                        "not supported: these models read text only")
        if m.content is None and m.role not in ("assistant", "function"):
            return f"messages[{i}].content", f"a {m.role} message needs content"
    return None
