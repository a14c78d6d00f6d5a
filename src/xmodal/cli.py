"""Command-line entry point: `xmodal index | search | serve | models`. The composition root for the CLI."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from xmodal.config import DEFAULT_MODEL, Settings

app = typer.Typer(help="xmodal: search images, sounds and texts with any of them.", no_args_is_help=True, add_completion=False)
err = Console(stderr=True)
STORE = typer.Option(None, "--store", help="store directory [env XMODAL_STORE; default ./xmodal-store]")
DEVICE = typer.Option(None, "--device", help="auto, cpu or cuda [env XMODAL_DEVICE]")
MODALITY = typer.Option(None, "--modality", "-m", help="target modality (image, audio, text); repeat for several; default all")


@contextmanager
def user_errors() -> Iterator[None]:
    """Known failures print one line and exit 2; no traceback for a user error."""
    from xmodal.encoders import MediaError, UnsupportedModality
    from xmodal.search import ItemNotFound
    from xmodal.store import StoreError

    try:
        yield
    except ValidationError as error:
        problem = error.errors()[0]
        name = ".".join(str(part) for part in problem["loc"])
        err.print(f"[red]xmodal: error:[/red] invalid setting {name} (flag or XMODAL_{name.upper()}): {problem['msg']}", highlight=False)
        raise typer.Exit(2) from None
    except (StoreError, MediaError, UnsupportedModality, ItemNotFound, ValueError, FileNotFoundError) as error:
        err.print(f"[red]xmodal: error:[/red] {error}", highlight=False)
        raise typer.Exit(2) from None


@app.command()
def index(
    paths: List[Path] = typer.Argument(..., help="directories (walked recursively), media or text files, or .jsonl manifests"),
    store: Optional[Path] = STORE,
    model: Optional[str] = typer.Option(None, "--model", help="model [env XMODAL_MODEL; default: the store's own, or xmodal-base for a new store]"),
    device: Optional[str] = DEVICE,
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="inputs per encoder batch"),
    max_audio_seconds: Optional[float] = typer.Option(None, "--max-audio-seconds", help="read at most this much of each sound"),
) -> None:
    """Index files into a store. Re-running adds only new or changed files; bad files are recorded and skipped."""
    from xmodal.device import pick_device
    from xmodal.encoders import load_model
    from xmodal.indexer import IndexJob, collect_sources
    from xmodal.store import Store

    with user_errors():
        settings = Settings().with_overrides(store=store, model=model, device=device, batch_size=batch_size, max_audio_seconds=max_audio_seconds)
        sources = list(collect_sources(paths))
        spec = settings.model or Store.recorded_spec(settings.store) or DEFAULT_MODEL
        encoder = load_model(spec, pick_device(settings.device), settings.batch_size)
        target = Store.open(settings.store, encoder.info.identity())
        columns = [TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("index", total=len(sources))
            summary = IndexJob(target, encoder, settings, on_item=lambda _: progress.advance(task)).run(sources)
    for where, reason in summary.failures[:20]:
        err.print(f"skipped {where}: {reason}", highlight=False, markup=False)
    if len(summary.failures) > 20:
        err.print(f"... and {len(summary.failures) - 20} more failures (recorded in the store)")
    typer.echo(
        f"indexed {summary.indexed}, unchanged {summary.unchanged}, failed {summary.failed} "
        f"in {summary.elapsed:.1f} s ({summary.items_per_second:.1f} items/s) -> {settings.store}"
    )


@app.command()
def search(
    store: Optional[Path] = STORE,
    text: Optional[str] = typer.Option(None, "--text", help="query text"),
    image: Optional[Path] = typer.Option(None, "--image", help="query image file"),
    audio: Optional[Path] = typer.Option(None, "--audio", help="query audio file"),
    item: Optional[str] = typer.Option(None, "--item", help="query by a stored item: its id, or its external id"),
    queries: Optional[Path] = typer.Option(None, "--queries", help="JSONL file of queries; one JSON result line each"),
    modality: Optional[List[str]] = MODALITY,
    k: int = typer.Option(10, "-k", min=1, max=1000, help="number of results"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    device: Optional[str] = DEVICE,
) -> None:
    """Search a store with a text, an image, a sound or a stored item; results of any modality."""
    from xmodal.search import BatchQuery, Searcher
    from xmodal.search.batch import run_batch, run_query

    with user_errors():
        settings = Settings().with_overrides(store=store, device=device)
    given = {name: value for name, value in (("text", text), ("image", image), ("audio", audio), ("item", item)) if value is not None}
    if queries is None and len(given) != 1:
        err.print("xmodal: error: give exactly one of --text, --image, --audio, --item (or --queries FILE)")
        raise typer.Exit(2)
    with user_errors():
        if queries is None:
            try:
                query = BatchQuery(**{key: str(value) for key, value in given.items()}, modality=modality or None, k=k)
            except ValidationError as error:
                raise ValueError(error.errors()[0]["msg"]) from None
        searcher = Searcher.open(settings)
        if queries is not None:
            with open(queries, encoding="utf-8", errors="replace") as lines:
                for record in run_batch(searcher, lines, settings):
                    typer.echo(json.dumps(record, ensure_ascii=False))
            return
        hits = run_query(searcher, query, settings)
    if as_json:
        typer.echo(json.dumps({"results": [hit.to_dict() for hit in hits]}, ensure_ascii=False))
    else:
        _print_hits(hits)


def _print_hits(hits: list) -> None:
    table = Table("rank", "score", "modality", "id", "text / path")
    for rank, hit in enumerate(hits, start=1):
        shown = " ".join(hit.text.split())[:80] if hit.text else hit.to_dict()["path"]
        table.add_row(str(rank), f"{hit.score:.3f}", hit.modality, str(hit.id), shown)
    Console().print(table)


@app.command()
def serve(
    store: Optional[Path] = STORE,
    host: Optional[str] = typer.Option(None, "--host", help="interface to listen on [default 127.0.0.1]"),
    port: Optional[int] = typer.Option(None, "--port", help="port [default 8000]"),
    device: Optional[str] = DEVICE,
) -> None:
    """Serve the search API (and its docs at /docs) over HTTP."""
    import uvicorn

    from xmodal.api import create_app

    with user_errors():
        settings = Settings().with_overrides(store=store, host=host, port=port, device=device)
        application = create_app(settings)
        err.print(f"xmodal: serving {settings.store} at http://{settings.host}:{settings.port}/  (API docs: /docs)")
        uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


@app.command()
def models() -> None:
    """List the models xmodal can load."""
    from xmodal.encoders import available_models

    for name in available_models():
        typer.echo(name)


def main() -> None:
    app(prog_name="xmodal")
