"""ASGI entry point for uvicorn: `contestday.asgi:create` (a factory: settings from the environment)."""

from litestar import Litestar

from contestday.app import create_app
from contestday.settings import load_settings

__all__ = ["create"]


def create() -> Litestar:
    return create_app(load_settings())
