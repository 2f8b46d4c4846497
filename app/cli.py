"""The ``demarche`` command: serve, migrate, seed, openapi."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from sqlmodel import Session

from app.db import alembic_config, make_engine
from app.settings import get_settings

cli = typer.Typer(help="Demarche: the record of diplomatic incidents.", no_args_is_help=True)


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database schema to REVISION (default: the latest)."""
    command.upgrade(alembic_config(get_settings().database_url), revision)
    typer.echo(f"database at {revision}")


@cli.command()
def seed() -> None:
    """Load the demo data set (idempotent: a second run changes nothing)."""
    from app.seed import load_demo

    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        counts = load_demo(session)
        session.commit()
    engine.dispose()
    typer.echo("demo data: " + json.dumps(counts, sort_keys=True))


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    typer.echo(f"Demarche on http://{host}:{port} — API docs at http://{host}:{port}/docs")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )  # the app writes its own access line, as JSON


@cli.command()
def openapi(
    output: Annotated[Path | None, typer.Option(help="File to write; standard output if omitted.")] = None,
) -> None:
    """Print the OpenAPI document the app serves."""
    from app.main import create_app

    text = json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def main() -> None:
    cli()
