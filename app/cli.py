"""The ``demarche`` command: serve, migrate, seed, openapi, keys, import, export.

Each command imports what it uses when it runs: the module itself loads only what the
commands' options name, so that a command that talks to a server (``demarche import --url``)
starts in a quarter of a second rather than one, and loads no models it does not use."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.access.scopes import KeyScope
from app.ingest.cli import database_errors, export_collection, import_file

if TYPE_CHECKING:
    from sqlmodel import Session

cli = typer.Typer(help="Demarche: the record of diplomatic incidents.", no_args_is_help=True)


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database schema to REVISION (default: the latest); at the latest, write the
    records' answers that are stale (all of them after an upgrade that adds them). Processes
    that migrate at once take turns (a lock in the database, or beside a SQLite file): one
    migrates, the others then find nothing to do."""
    from alembic import command

    from app.db import KEPT_ANSWERS, alembic_config, current_revision, make_engine, migration_lock
    from app.kit import sqljson
    from app.settings import get_settings

    url = get_settings().database_url
    engine = make_engine(url)
    with migration_lock(url, waiting=lambda: typer.echo("waiting for the migration another process is running")):
        before = current_revision(engine)
        command.upgrade(alembic_config(url), revision)
        if revision == "head":
            with engine.begin() as connection:
                sqljson.refill(connection, KEPT_ANSWERS)
        after = current_revision(engine)
    engine.dispose()
    if after == before:
        typer.echo(f"database at {revision} ({after}) already: nothing to migrate")
    else:
        typer.echo(f"database at {revision} ({after}), migrated from {before or 'an empty database'}")


@cli.command()
def seed() -> None:
    """Load the demo data set into an empty database; a database that holds records is left
    as it is (so that a user's own records and edits survive `make run`)."""
    from sqlmodel import Session

    from app.db import install_session_events, make_engine
    from app.seed import holds_records, load_demo
    from app.settings import get_settings

    install_session_events()
    engine = make_engine(get_settings().database_url)
    with database_errors(), Session(engine) as session:
        if holds_records(session):
            typer.echo("demo data not loaded: the database already holds records")
            counts = None
        else:
            counts = load_demo(session)
            session.commit()
    engine.dispose()
    if counts is not None:
        typer.echo("demo data: " + json.dumps(counts, sort_keys=True))


WORKER_HEALTHCHECK_SECONDS = 60


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes (DEMARCHE_WORKERS); by default one per core when anonymous reads are off "
            "(DEMARCHE_PUBLIC_READ=false, production), else one.",
        ),
    ] = None,
    proxy_headers: Annotated[
        bool, typer.Option(help="Trust X-Forwarded-For/-Proto from the addresses in FORWARDED_ALLOW_IPS.")
    ] = False,
    limit_concurrency: Annotated[
        int | None,
        typer.Option(help="Connections and requests at once, per worker, past which requests answer 503."),
    ] = None,
    backlog: Annotated[int, typer.Option(help="Connections the kernel queues before they are accepted.")] = 2048,
    timeout_keep_alive: Annotated[int, typer.Option(help="Seconds an idle kept-alive connection stays open.")] = 5,
    timeout_graceful_shutdown: Annotated[
        int | None, typer.Option(help="Seconds requests in flight may take to finish after SIGTERM.")
    ] = None,
) -> None:
    """Serve the API with uvicorn, within the bounds on slow clients of ``app/serving.py``
    (``DEMARCHE_HEADER_TIMEOUT_SECONDS``, ``DEMARCHE_BODY_IDLE_SECONDS``,
    ``DEMARCHE_CONNECTIONS_PER_ADDRESS``, ``DEMARCHE_WAITING_CONNECTIONS``, each per worker
    process). Several workers share the socket, and their metrics add up (``app/workers.py``).
    Every line written, uvicorn's own included, is JSON."""
    import logging

    import uvicorn

    from app.kit.observe import configure_logging, log_config
    from app.serving import Guarded
    from app.settings import get_settings
    from app.workers import APP, serve_workers

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    workers = workers or settings.worker_processes()
    configure_logging(settings.log_level)
    logging.getLogger("demarche").info(
        f"Demarche on http://{host}:{port} — API docs at http://{host}:{port}/docs",
        extra={"fields": {"workers": workers}},
    )
    options = dict(
        factory=True,
        host=host,
        port=port,
        http=Guarded,
        proxy_headers=proxy_headers,
        limit_concurrency=limit_concurrency,
        backlog=backlog,
        timeout_keep_alive=timeout_keep_alive,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
        log_config=log_config(settings.log_level),
        log_level=settings.log_level.lower(),
        access_log=False,  # the app writes its own access line
    )
    if workers > 1:
        # A worker is spawned: it imports the app before it can answer the supervisor's health
        # checks, seconds on a busy machine, and one silent for uvicorn's 5 s is killed and
        # spawned again, over and over. One silent for a minute is hung.
        options["timeout_worker_healthcheck"] = WORKER_HEALTHCHECK_SECONDS
        serve_workers(uvicorn.Config(APP, workers=workers, **options))
    else:
        # one process takes in every client waiting to connect at once (app.serving.Loop);
        # workers sharing a socket keep uvloop's one a turn, which spreads a crowd among them
        uvicorn.run(APP, loop="app.serving:event_loop", **options)


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


keys = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
cli.add_typer(keys, name="keys")


@contextmanager
def _session() -> Iterator["Session"]:
    from sqlmodel import Session

    from app.db import make_engine
    from app.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        with database_errors(), Session(engine, expire_on_commit=False) as session:
            yield session
            session.commit()
    finally:
        engine.dispose()


@keys.command("create")
def create_key(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    scope: Annotated[KeyScope, typer.Option(help="read, write (implies read) or admin (implies write).")],
) -> None:
    """Issue a key; its secret is printed alone on the last line, and never again."""
    from app.access import service as access
    from app.access.models import ApiKeyCreate

    with _session() as session:
        key, secret = access.create(session, ApiKeyCreate(name=name, scope=scope))
    typer.echo(f"created {scope} key {key.id} ({name}); its secret, shown only now:")
    typer.echo(secret)


@keys.command("list")
def list_keys() -> None:
    """Keys not revoked: id, scope, name, created, last used."""
    from app.access import service as access

    with _session() as session:
        for key in access.live(session):
            used = key.last_used_at.isoformat() if key.last_used_at else "never"
            typer.echo(f"{key.id}\t{key.scope}\t{key.name}\t{key.created_at.isoformat()}\t{used}")


@keys.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key: the next request that sends it is refused."""
    from app.access import service as access
    from app.kit.problems import NotFound

    try:
        with _session() as session:
            access.revoke(session, key_id)
    except NotFound as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {key_id}")


cli.command("import")(import_file)
cli.command("export")(export_collection)


def main() -> None:
    cli()
