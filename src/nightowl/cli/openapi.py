"""``nightowl openapi``: print the app's OpenAPI document."""

from __future__ import annotations

import click

from nightowl.cli.group import ScriptInfo

__all__ = ["openapi_command"]


@click.command("openapi")
@click.argument("app_ref", metavar="[APP]", required=False)
@click.option("--yaml", "as_yaml", is_flag=True, help="Print YAML instead of JSON (needs PyYAML).")
@click.pass_obj
def openapi_command(info: ScriptInfo, app_ref: str | None, as_yaml: bool) -> None:
    """Print the OpenAPI 3.1 document of the app: `nightowl openapi > openapi.json`.

    APP is MODULE[:NAME], found as for `nightowl run`.
    """
    from nightowl.app import App
    from nightowl.openapi import render_document

    located = info.locate(app_ref)
    if not isinstance(located.app, App):
        raise click.ClickException(
            f"{located.import_string} is not a nightowl app; it has no OpenAPI document."
        )
    try:
        click.echo(render_document(located.app, yaml=as_yaml))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
