"""MCP tools whose arguments are the fields of a pydantic request model, with lean schemas.

Clients, the MCP Inspector CLI (`--tool-arg source=data.jsonl`) and the reference servers pass tool arguments flat,
one per field. `flat_tool` turns a request model into exactly that: each field of the model is a parameter of the
tool (its type, constraints, default and description come from the field), so a field added to the model later is
a tool parameter without any change here. Unknown arguments are refused (`additionalProperties: false`), and the
server's middleware names the nearest valid field (`unknown_field_message`).

The SDK derives a tool's input schema from the Python signature of its function (`Tool.from_function`); the
function built here carries a signature made from the model's fields. Schemas are then made lean: no titles, no
`anyOf [..., null]` for optional inputs, and output schemas one level deep (nested objects are named with their
fields in a description), so `tools/list` stays small in an agent's context while results keep their structure.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

Body = Callable[[Any, Context], Awaitable[CallToolResult]]


def tool_model(name: str, base: type[BaseModel], *, drop: tuple[str, ...] = (),
               add: dict[str, tuple[Any, FieldInfo]] | None = None, doc: str | None = None) -> type[BaseModel]:
    """`base`'s fields minus `drop`, plus `add`: the arguments of a tool that fills `base` (e.g. report ids in place
    of report paths). Fields added to `base` later appear here too."""
    fields: dict[str, Any] = {n: (f.annotation, f) for n, f in base.model_fields.items() if n not in drop}
    fields.update(add or {})
    return create_model(name, __doc__=doc or base.__doc__, **fields)


def flat_tool(model: type[BaseModel], body: Body, *, name: str, output: type[BaseModel], title: str,
              description: str, annotations: ToolAnnotations,
              descriptions: dict[str, str] | None = None, result: str | None = None) -> Tool:
    """A tool named `name` whose arguments are `model`'s fields; it calls `body(model_instance, ctx)`.

    `descriptions` fill in fields that have none (shared across tools, so one field reads the same everywhere).
    `result`: the one nested object of `output` this tool fills (`scan` of a JobView); the others are left out of
    its published output schema (they are null in its results, and unlisted properties stay valid).
    """
    params = []
    for field_name, info in model.model_fields.items():
        text = info.description or (descriptions or {}).get(field_name)
        annotation = Annotated[(info.annotation, *info.metadata, Field(description=text))]
        default = inspect.Parameter.empty if info.is_required() else info.get_default(call_default_factory=True)
        params.append(inspect.Parameter(field_name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                        default=default))
    params.append(inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context))
    returns = Annotated[CallToolResult, output]

    async def call(**kwargs: Any) -> CallToolResult:
        ctx = kwargs.pop("ctx")
        return await body(model.model_validate(kwargs), ctx)

    call.__name__ = call.__qualname__ = name
    call.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    call.__annotations__ = {**{p.name: p.annotation for p in params}, "return": returns}
    tool = Tool.from_function(call, name=name, title=title, description=description, annotations=annotations)
    return lean(tool, model, result=result)


def lean(tool: Tool, model: type[BaseModel] | None = None, result: str | None = None) -> Tool:
    """Refuse unknown arguments and publish compact input and output schemas (in place; returns the tool).

    With `model`, the arguments are also validated as that model (its validators run: a request model that maps a
    legacy `verify=false` to `"off"` accepts it here too). With `result`, see `flat_tool`."""
    base = tool.fn_metadata.arg_model
    bases = (base, model) if model is not None else (base,)
    strict = type(base.__name__, bases, {"model_config": ConfigDict(extra="forbid"), "__module__": __name__})
    tool.fn_metadata.arg_model = strict
    tool.parameters = compact_input(strict.model_json_schema(by_alias=True))
    if tool.fn_metadata.output_schema is not None:
        schema = compact_output(tool.fn_metadata.output_schema)
        if result is not None:
            schema["properties"] = {k: v for k, v in schema["properties"].items()
                                    if k == result or "object" not in _types(v)}
        tool.fn_metadata.output_schema = schema
    tool.__dict__.pop("output_schema", None)  # a cached_property: recomputed from the compact schema
    return tool


# ---- schemas ------------------------------------------------------------------------------------------------------
_KEEP = ("type", "description", "enum", "const", "default", "minimum", "maximum", "exclusiveMinimum",
         "exclusiveMaximum", "minLength", "maxLength", "pattern", "items", "minItems", "maxItems")


def compact_input(schema: dict) -> dict:
    """An argument schema without titles; optional fields typed without their `null` variant (leaving one out
    is how a caller says "none")."""
    defs = schema.get("$defs", {})
    props = {name: _input_prop(prop, defs) for name, prop in schema.get("properties", {}).items()}
    out: dict[str, Any] = {"type": "object", "properties": props}
    if schema.get("required"):
        out["required"] = list(schema["required"])
    if schema.get("additionalProperties") is False:
        out["additionalProperties"] = False
    return out


def _input_prop(prop: dict, defs: dict) -> dict:
    prop = _deref(prop, defs)
    variants = [_deref(v, defs) for v in prop.get("anyOf", [])]
    real = [v for v in variants if v.get("type") != "null"]
    base = dict(real[0]) if len(real) == 1 else ({"anyOf": [_slim(v, defs) for v in real]} if real else {})
    merged = {**base, **{k: v for k, v in prop.items() if k not in ("anyOf", "title")}}
    if merged.get("default", 0) is None:
        merged.pop("default")
    return _slim(merged, defs)


def _slim(prop: dict, defs: dict) -> dict:
    prop = _deref(prop, defs)
    out = {k: v for k, v in prop.items() if k in _KEEP or k == "anyOf"}
    if isinstance(out.get("items"), dict):
        out["items"] = {k: v for k, v in _deref(out["items"], defs).items() if k in ("type", "enum")} or {}
    if prop.get("type") == "object" and "properties" in prop:  # nested models are described, not spelled out
        out.setdefault("description", _fields_note(prop))
    return out


def compact_output(schema: dict) -> dict:
    """An output schema one level deep: top-level fields with types and descriptions; a nested object is
    `{"type": "object"}` whose description names its fields. Still true of every result, so clients that validate
    structured content against it accept it."""
    defs = schema.get("$defs", {})
    root = _deref(schema, defs)
    props = {name: _output_prop(prop, defs) for name, prop in root.get("properties", {}).items()}
    out: dict[str, Any] = {"type": "object", "properties": props}
    if root.get("required"):
        out["required"] = list(root["required"])
    return out


def _output_prop(prop: dict, defs: dict) -> dict:
    description = prop.get("description")
    variants = [_deref(v, defs) for v in prop.get("anyOf", [prop])]
    nullable = any(v.get("type") == "null" for v in variants)
    real = [v for v in variants if v.get("type") != "null"]
    if len(real) != 1:
        return {"description": description} if description else {}
    v = real[0]
    kind = v.get("type", "object")
    out: dict[str, Any] = {"type": [kind, "null"] if nullable else kind}
    if kind == "object" and "properties" in v:
        out["description"] = " ".join(x for x in (description, _fields_note(v)) if x)
    elif description or v.get("description"):
        out["description"] = description or v.get("description")
    if "enum" in v:
        out["enum"] = list(v["enum"]) + ([None] if nullable else [])
    if kind == "array" and isinstance(v.get("items"), dict):
        item = _deref(v["items"], defs)
        out["items"] = {"type": item.get("type", "object")}
        if "properties" in item:
            out["description"] = " ".join(x for x in (out.get("description"), "Items: " + _fields_note(item)) if x)
    return out


def _types(prop: dict) -> list:
    kind = prop.get("type", [])
    return kind if isinstance(kind, list) else [kind]


def _fields_note(model_schema: dict, shown: int = 8) -> str:
    """The first fields of a nested result, by name: enough for an agent to find its way, small enough to repeat."""
    names = list(model_schema.get("properties", {}))
    return "Fields: " + ", ".join(names[:shown]) + (", ..." if len(names) > shown else ".")


def _deref(prop: dict, defs: dict) -> dict:
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"), {})
        return {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


# ---- unknown arguments --------------------------------------------------------------------------------------------
def unknown_field_message(field: str, valid: list[str]) -> str:
    """`polcy` -> "unknown field `polcy` (did you mean `policy`?)"."""
    if field == "request":
        return "unknown field `request`: arguments are flat, one per field (source=..., not request={...})"
    near = difflib.get_close_matches(field, valid, n=1, cutoff=0.6)
    hint = f" (did you mean `{near[0]}`?)" if near else f" (valid fields: {', '.join(valid)})"
    return f"unknown field `{_shown(field)}`{hint}"


def _shown(name: str) -> str:
    """A caller-given key is data of sorts: show it only when it looks like an identifier."""
    return name if name.isidentifier() and len(name) <= 40 else "<not an identifier>"
