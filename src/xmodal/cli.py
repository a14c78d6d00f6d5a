"""Command-line entry point: `xmodal index | search | serve | models`. The composition root for the CLI."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from xmodal import modalities
from xmodal.config import Settings
from xmodal.errors import Invalid, XmodalError, validation_message

app = typer.Typer(
    help="xmodal: search images, sounds and texts with any of them.", no_args_is_help=True, add_completion=False
)
err = Console(stderr=True)
STORE = typer.Option(None, "--store", help="store directory [env XMODAL_STORE; default ./xmodal-store]")
DEVICE = typer.Option(None, "--device", help="auto, cpu or cuda [env XMODAL_DEVICE]")
MODALITY = typer.Option(
    None, "--modality", "-m", help=f"target modality ({', '.join(modalities.NAMES)}); repeat for several; default all"
)


@contextmanager
def user_errors() -> Iterator[None]:
    """A failure a user can fix (an XmodalError) prints one line and exits 2; anything else is a bug
    and keeps its traceback."""
    try:
        yield
    except XmodalError as error:
        err.print(f"[red]xmodal: error:[/red] {error}", highlight=False)
        raise typer.Exit(2) from None


def load_settings(**flags: object) -> Settings:
    """Defaults < config file < environment < the flags given; a bad value is a user error."""
    try:
        return Settings().with_overrides(**flags)
    except ValidationError as error:
        named = validation_message(error.errors(), lambda name: f"{name} (flag or XMODAL_{name.upper()})")
        raise Invalid(f"invalid setting {named}") from None


@app.command()
def index(
    paths: List[Path] = typer.Argument(
        ..., help="directories (walked recursively), media or text files, or .jsonl manifests"
    ),
    store: Optional[Path] = STORE,
    model: Optional[str] = typer.Option(
        None, "--model", help="model [env XMODAL_MODEL; default: the store's own, or xmodal-base for a new store]"
    ),
    prune: bool = typer.Option(
        False, "--prune", help="forget files under the given directories that are gone from disk"
    ),
    device: Optional[str] = DEVICE,
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="inputs per encoder batch"),
    workers: Optional[int] = typer.Option(
        None, "--workers", min=0, help="decoder processes (0: decode inline) [env XMODAL_WORKERS]"
    ),
    index_type: Optional[str] = typer.Option(
        None, "--index-type", help="auto (by size), flat, ivf or ivfpq [env XMODAL_INDEX_TYPE]"
    ),
    max_audio_seconds: Optional[float] = typer.Option(
        None, "--max-audio-seconds", help="read at most this much of each sound"
    ),
) -> None:
    """Index files into a store. Re-running reads only new or changed files; moved files keep their
    vectors; identical files are embedded once; bad files are recorded and skipped. Safe to kill and
    run again."""
    from xmodal.engine import Engine

    with user_errors():
        settings = load_settings(
            store=store,
            model=model,
            device=device,
            batch_size=batch_size,
            workers=workers,
            index_type=index_type,
            max_audio_seconds=max_audio_seconds,
        )
        columns = [
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            _Rate(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, console=err, transient=True) as bar, Engine(settings) as engine:
            task = bar.add_task("index", total=None)
            summary = engine.index(
                paths,
                prune=prune,
                on_progress=lambda done: bar.update(task, total=done.total, completed=done.processed),
            )
    _print_summary(summary, settings.store)


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f} items/s" if task.speed else "")


def _print_summary(summary, store: Path) -> None:
    for where, reason in summary.failures[:20]:
        err.print(f"skipped {where}: {reason}", highlight=False, markup=False)
    if len(summary.failures) > 20:
        err.print(f"... and {len(summary.failures) - 20} more failures (recorded in the store)")
    for path, original in summary.duplicate_paths[:10]:
        err.print(f"duplicate {path}: same content as {original}", highlight=False, markup=False)
    counted = (("moved", summary.moved), ("duplicates", summary.duplicates), ("pruned", summary.pruned))
    extra = "".join(f", {name} {count}" for name, count in counted if count)
    typer.echo(
        f"indexed {summary.indexed}, unchanged {summary.unchanged}{extra}, failed {summary.failed} "
        f"in {summary.elapsed:.1f} s ({summary.items_per_second:.1f} items/s) -> {store}"
    )


@app.command()
def check(
    store: Optional[Path] = STORE,
    repair: bool = typer.Option(False, "--repair", help="fix what can be fixed and say what was done"),
) -> None:
    """Verify that the database and the index files agree (ids, counts, dimension, model); exit 1 if not."""
    from xmodal.engine import Engine

    with user_errors():
        settings = load_settings(store=store)
        report = Engine(settings).check(repair)
    for problem in report.found:
        typer.echo(f"problem: {problem}")
    for action in report.repaired:
        typer.echo(f"repaired: {action}")
    counts = ", ".join(f"{modality} {sum(by_status.values())}" for modality, by_status in sorted(report.items.items()))
    typer.echo(f"{'ok' if report.ok else 'NOT OK'}: {settings.store} ({counts or 'empty'})")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def upgrade(store: Optional[Path] = STORE) -> None:
    """Bring a store's database schema up to this xmodal's version (readers refuse an older one)."""
    from xmodal.engine import Engine
    from xmodal.store.schema import SCHEMA_VERSION

    with user_errors():
        settings = load_settings(store=store)
        applied = Engine(settings).upgrade()
    done = f"upgraded (applied {', '.join(applied)})" if applied else "already current"
    typer.echo(f"{settings.store}: schema {SCHEMA_VERSION}, {done}")


@app.command()
def info(store: Optional[Path] = STORE, as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Show a store: items per modality, index layout and recorded recall, model, device, size on disk."""
    from xmodal.engine import Engine

    with user_errors():
        with Engine(load_settings(store=store)) as engine:
            report = engine.info()
    if as_json:
        typer.echo(json.dumps(report))
        return
    backend = report["vector_backend"]
    typer.echo(f"store   {report['store']} ({report['bytes_on_disk'] / 1e6:.1f} MB on disk)")
    typer.echo(f"model   {report['model_description']}")
    typer.echo(f"device  torch {report['device']['torch']}, {backend} {report['device'][backend]}")
    for modality, index in report["indexes"].items():
        by_status = report["items"].get(modality, {})
        tuning = index["tuning"] or {}
        recall = f", recall@10 {tuning['recall_at_10']:.3f} (nprobe {tuning['nprobe']})" if tuning.get("nprobe") else ""
        counts = f"{by_status.get('indexed', 0)} indexed, {by_status.get('failed', 0)} failed"
        typer.echo(f"{modality:<7} {counts}; index {index['layout']}, {index['vectors']} vectors{recall}")
    if "duplicates" in report["items"]:
        typer.echo(f"duplicate paths  {report['items']['duplicates']['paths']}")


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
    from xmodal.engine import Engine
    from xmodal.search import BatchQuery

    with user_errors():
        settings = load_settings(store=store, device=device)
    given = {
        name: value
        for name, value in (("text", text), ("image", image), ("audio", audio), ("item", item))
        if value is not None
    }
    if queries is None and len(given) != 1:
        err.print("xmodal: error: give exactly one of --text, --image, --audio, --item (or --queries FILE)")
        raise typer.Exit(2)
    with user_errors(), Engine.open(settings) as engine:
        if queries is not None:
            for record in engine.run_batch(_query_lines(queries)):
                typer.echo(json.dumps(record, ensure_ascii=False))
            return
        try:
            query = BatchQuery(**{key: str(value) for key, value in given.items()}, modality=modality or None, k=k)
        except ValidationError as error:
            raise Invalid(validation_message(error.errors())) from None
        hits = engine.run_query(query)
    if as_json:
        typer.echo(json.dumps({"results": [hit.to_dict() for hit in hits]}, ensure_ascii=False))
    else:
        _print_hits(hits)


def _query_lines(path: Path) -> Iterator[str]:
    try:
        lines = open(path, encoding="utf-8", errors="replace")
    except OSError as error:
        raise Invalid(f"cannot read the queries file {path}: {error.strerror or error}") from None
    with lines:
        yield from lines


def _print_hits(hits: list) -> None:
    from xmodal.search import display_path

    table = Table("rank", "score", "modality", "id", "text / path")
    for rank, hit in enumerate(hits, start=1):
        shown = " ".join(hit.text.split())[:80] if hit.text else display_path(hit.path)
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
        settings = load_settings(store=store, host=host, port=port, device=device)
        application = create_app(settings)
        err.print(f"xmodal: serving {settings.store} at http://{settings.host}:{settings.port}/  (API docs: /docs)")
        uvicorn.run(
            application, host=settings.host, port=settings.port, log_level="info", access_log=False
        )  # the app logs each request


@app.command()
def models() -> None:
    """List the models xmodal can load."""
    from xmodal.encoders import available_models

    for name in available_models():
        typer.echo(name)


def main() -> None:
    app(prog_name="xmodal")


# Training and evaluation live in xmodal.training (imports the library, never the reverse);
# its module imports only typer and rich at the top, so registering it here costs nothing.
from xmodal.training.commands import evaluate, train  # noqa: E402

app.command("train")(train)
app.command("eval")(evaluate)
