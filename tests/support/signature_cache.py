"""Most tests build their own app (`create_app`, one per test: its own database and data folder), and Litestar
parses the signature of each of the ~380 handlers anew every time: resolving the string annotations
(`from __future__ import annotations`) with `eval` and building a msgspec model per handler was half of the
0.35 s CPU an app cost, paid ~1,600 times a CI run. The same handler function with the same names in scope parses
to the same result in every app, so within one test process it is parsed once.

Keys are identities, never equality: the function's code, globals, annotations and defaults (closures made anew
per app, like Litestar's OPTIONS handlers, share their code; what they close over is no part of a signature) and
each name in scope; every object a key names is kept alive by the cache so no identity is reused. A handler whose
parse differs in anything misses and is parsed as before. Only the test process is patched: servers the tests
start as commands parse everything themselves."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar._signature import SignatureModel
from litestar.utils.signature import ParsedSignature

_parse = ParsedSignature.from_fn.__func__  # type: ignore[attr-defined]
_create = SignatureModel.create.__func__  # type: ignore[attr-defined]
_parsed: dict[tuple[Any, ...], tuple[ParsedSignature, tuple[Any, ...]]] = {}
_models: dict[tuple[Any, ...], tuple[type[SignatureModel], tuple[Any, ...]]] = {}


def _names(mapping: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    return tuple((name, id(value)) for name, value in mapping.items())


def _part(obj: Any) -> Any:
    """A type decoder's predicate or decoder: plugins wrap the same function in a new partial for each app."""
    if isinstance(obj, partial):
        return (id(obj.func), tuple(map(id, obj.args)), _names(obj.keywords))
    return id(obj)


def _function_key(fn: Any) -> tuple[Any, ...]:
    func = getattr(fn, "__func__", fn)
    code = getattr(func, "__code__", None)
    if code is None:
        return (func,)
    return (code, id(func.__globals__), _names(func.__annotations__), tuple(map(id, func.__defaults__ or ())),
            _names(func.__kwdefaults__ or {}))


def _from_fn(cls: type[ParsedSignature], fn: Any, signature_namespace: dict[str, Any]) -> ParsedSignature:
    key = (cls, _function_key(fn), _names(signature_namespace))
    hit = _parsed.get(key)
    if hit is None:
        hit = _parsed[key] = (_parse(cls, fn, signature_namespace), (fn, tuple(signature_namespace.values())))
    return hit[0]


def _create_model(cls: type[SignatureModel], dependency_name_set: set[str], fn: Any,
                  parsed_signature: ParsedSignature, type_decoders: Any,
                  data_dto: Any = None) -> type[SignatureModel]:
    decoders = tuple(type_decoders or ())
    key = (cls, id(parsed_signature), frozenset(dependency_name_set), _function_key(fn),
           tuple(_part(part) for pair in decoders for part in pair), id(data_dto))
    hit = _models.get(key)
    if hit is None:
        model = _create(cls, dependency_name_set=dependency_name_set, fn=fn, parsed_signature=parsed_signature,
                        type_decoders=type_decoders, data_dto=data_dto)
        hit = _models[key] = (model, (parsed_signature, fn, decoders, data_dto))
    return hit[0]


def install() -> None:
    ParsedSignature.from_fn = classmethod(_from_fn)  # type: ignore[assignment,method-assign]
    SignatureModel.create = classmethod(_create_model)  # type: ignore[assignment,method-assign]
