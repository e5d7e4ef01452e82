"""Jinja2 rendering of notification texts and reports from templates/ (zh-CN first)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class TemplateError(ValueError):
    """A template is missing or a variable it needs was not given; the message names both."""


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm"), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = lambda v: f"¥{float(v):,.2f}"
    from domain.privacy import mask_phone

    env.filters["mask_phone"] = mask_phone
    return env


def _template(name: str) -> jinja2.Template:
    try:
        return environment().get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {name!r} not found under {TEMPLATES}") from exc


def render(name: str, context: dict[str, Any]) -> str:
    try:
        return _template(name).render(**context)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"template {name!r}: {exc.message}") from exc


def render_message(name: str, context: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of a notification template `notifications/<name>.j2`.

    The template defines `{% block title %}` and `{% block body %}`.
    """
    template = _template(f"notifications/{name}.j2")
    try:
        ctx = template.new_context(dict(context))
        title = "".join(template.blocks["title"](ctx)).strip()
        body = "".join(template.blocks["body"](ctx)).strip()
    except KeyError as exc:
        raise TemplateError(f"template {name!r} lacks block {exc.args[0]!r}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"template {name!r}: {exc.message}") from exc
    return title, body
