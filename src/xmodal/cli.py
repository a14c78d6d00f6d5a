"""Command-line entry point: `xmodal index | search | serve | models`. The composition root for the CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, List, Optional, TextIO

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xmodal import modalities
from xmodal.config import DEFAULT_MODEL, Settings
from xmodal.errors import Invalid, XmodalError, validation_message
from xmodal.signals import StopOnSignal, Stopped

# `--ray` takes an optional address, which click cannot express: a bare `--ray` (followed by a path,
# another flag or nothing) is given its value here before parsing.
RAY_ADDRESS = re.compile(r"^(default|auto|local|ray://\S+|[\w.\-\[\]:]+:\d+)$")


def _bare_ray_flag(arguments: list[str]) -> list[str]:
    out: list[str] = []
    for position, word in enumerate(arguments):
        out.append(word)
        following = arguments[position + 1] if position + 1 < len(arguments) else None
        if word == "--ray" and (following is None or not RAY_ADDRESS.match(following)):
            out[-1] = "--ray=default"
    return out


class _App(typer.Typer):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        sys.argv[1:] = _bare_ray_flag(sys.argv[1:])
        return super().__call__(*args, **kwargs)


# Plain help and usage errors: rich panels would hide "[...]" in help texts, label flags <bool> and
# wrap an error inside a box.
app = _App(
    help="xmodal: search images, sounds and texts with any of them.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
SHOWN_FAILURES, SHOWN_DUPLICATES = 20, 10  # after these, a count
# soft_wrap: an error stays one line whatever the width, in a terminal and in a pipe or log.
err = Console(stderr=True, soft_wrap=True, highlight=False)


def setting(name: str, *flags: str, help: str, default: str | None = None, **rules: Any) -> Any:
    """A flag for a setting. It defaults to None ("not given") so that Settings' precedence applies,
    and its help names the environment variable and the setting's own default."""
    shown = default if default is not None else str(Settings.model_fields[name].default)
    return typer.Option(
        None, *flags, envvar=f"XMODAL_{name.upper()}", show_envvar=True, show_default=shown, help=help, **rules
    )


STORE = setting("store", "--store", help="store directory")
DATABASE = setting(
    "database_url", "--db", help="metadata database URL (postgresql://...)", default="SQLite in the store directory"
)
DEVICE = setting("device", "--device", help="auto, cpu or cuda")
MODALITY = typer.Option(
    None,
    "--modality",
    "-m",
    metavar="KIND",
    help=f"target modality ({', '.join(modalities.NAMES)}); repeat for several; default all",
)


@contextmanager
def user_errors() -> Iterator[None]:
    """A failure a user can fix (an XmodalError) prints one line and exits 2; anything else is a bug
    and keeps its traceback."""
    try:
        yield
    except XmodalError as error:
        err.print(f"[red]xmodal: error:[/red] {escape(str(error))}", highlight=False)  # '[postgres]' is no markup
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
        ..., metavar="PATH...", help="directories (walked recursively), media or text files, or .jsonl manifests"
    ),
    store: Optional[Path] = STORE,
    db: Optional[str] = DATABASE,
    model: Optional[str] = setting(
        "model",
        "--model",
        help="model (see `xmodal models`)",
        default=f"the store's own; {DEFAULT_MODEL} for a new store",
    ),
    prune: bool = typer.Option(
        False, "--prune", help="forget files under the given directories that are gone from disk"
    ),
    pair_by_stem: bool = typer.Option(
        False,
        "--pair-by-stem",
        help="files of one folder sharing a stem (dog.png, dog.txt, dog.ogg) become one item with parts",
    ),
    device: Optional[str] = DEVICE,
    batch_size: Optional[int] = setting("batch_size", "--batch-size", min=1, help="inputs per encoder batch"),
    workers: Optional[int] = setting("workers", "--workers", min=0, help="decoder processes (0: decode inline)"),
    index_type: Optional[str] = setting("index_type", "--index-type", help="auto (by size), flat, ivf or ivfpq"),
    max_audio_seconds: Optional[float] = setting(
        "max_audio_seconds", "--max-audio-seconds", help="read at most this much of each sound"
    ),
    ray: Optional[str] = setting(
        "ray",
        "--ray",
        metavar="[ADDRESS]",
        help="embed on a Ray cluster (pip install 'xmodal[ray]'): at ADDRESS (auto, or the head's HOST:PORT; run "
        "on a node of the cluster), or alone for Ray's default (RAY_ADDRESS, a cluster started here, else a new "
        "local one); every node must see the files at the same paths",
        default="off",
    ),
    ray_workers: Optional[int] = setting("ray_workers", "--ray-workers", min=0, help="Ray workers (0: per GPU/2 CPUs)"),
) -> None:
    """Index files into a store. Re-running reads only new or changed files; moved files keep their
    vectors; identical files are embedded once; bad files are recorded and skipped. Safe to kill and
    run again."""
    from xmodal.cli_progress import IndexProgress

    with user_errors():
        settings = load_settings(
            store=store,
            database_url=db,
            model=model,
            device=device,
            batch_size=batch_size,
            workers=workers,
            index_type=index_type,
            max_audio_seconds=max_audio_seconds,
            ray=ray,
            ray_workers=ray_workers,
        )
        last = None  # the job's latest progress, for the message if it is stopped
        try:
            with StopOnSignal() as stop, IndexProgress(err) as shown:  # shown before the libraries load
                from xmodal.engine import Engine

                def show(progress: Any) -> None:  # a JobProgress
                    nonlocal last
                    last = progress
                    shown.show(progress)

                with Engine(settings) as engine:
                    summary = engine.index(
                        paths, prune=prune, pair_by_stem=pair_by_stem, on_progress=stop.checking(show)
                    )
        except Stopped as signal_name:
            indexed = last.summary.indexed if last is not None else 0
            err.print(
                f"xmodal: stopped by {signal_name} after {indexed} new items; what was indexed is saved in "
                f"{settings.store} (run the same command to go on)",
                markup=False,
            )
            raise typer.Exit(128 + signal.SIGTERM) from None
    _print_summary(summary, settings.store)
    raise typer.Exit(1 if summary.all_failed else 0)  # nothing could be read: not a success


def _print_summary(summary, store: Path) -> None:
    for where, reason in summary.skipped:
        err.print(f"skipped {where}: {reason}", markup=False)
    for where, reason in summary.failures[:SHOWN_FAILURES]:
        err.print(f"skipped {where}: {reason}", markup=False)
    if len(summary.failures) > SHOWN_FAILURES:
        more = len(summary.failures) - SHOWN_FAILURES
        err.print(f"... and {more} more failures (recorded in the store: xmodal info --failed)", markup=False)
    for path, original in summary.duplicate_paths[:SHOWN_DUPLICATES]:
        err.print(f"duplicate {path}: same content as {original}", markup=False)
    if len(summary.duplicate_paths) > SHOWN_DUPLICATES:
        more = len(summary.duplicate_paths) - SHOWN_DUPLICATES
        err.print(f"... and {more} more duplicates (recorded in the store)", markup=False)
    counted = (
        ("updated", summary.updated), ("moved", summary.moved), ("duplicates", summary.duplicates),
        ("pruned", summary.pruned),
        ("re-embedded", summary.restored),
    )
    extra = "".join(f", {name} {count}" for name, count in counted if count)
    typer.echo(
        f"indexed {summary.indexed}, unchanged {summary.unchanged}{extra}, failed {summary.failed} "
        f"in {summary.elapsed:.1f} s ({summary.items_per_second:.1f} items/s) -> {store}"
    )


@app.command()
def check(
    store: Optional[Path] = STORE,
    db: Optional[str] = DATABASE,
    repair: bool = typer.Option(False, "--repair", help="fix what can be fixed and say what was done"),
) -> None:
    """Verify that the database and the index files agree (ids, counts, dimension, model); exit 1 if not."""
    from xmodal.engine import Engine

    with user_errors():
        settings = load_settings(store=store, database_url=db)
        report = Engine(settings).check(repair)
    for problem in report.found:
        typer.echo(f"problem: {problem}")
    for action in report.repaired:
        typer.echo(f"repaired: {action}")
    counts = ", ".join(f"{modality} {sum(by_status.values())}" for modality, by_status in sorted(report.items.items()))
    typer.echo(f"{'ok' if report.ok else 'NOT OK'}: {settings.store} ({counts or 'empty'})")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def upgrade(store: Optional[Path] = STORE, db: Optional[str] = DATABASE) -> None:
    """Bring a store's database schema up to this xmodal's version (readers refuse an older one)."""
    from xmodal.engine import Engine
    from xmodal.store.schema import SCHEMA_VERSION

    with user_errors():
        settings = load_settings(store=store, database_url=db)
        applied = Engine(settings).upgrade()
    done = f"upgraded (applied {', '.join(applied)})" if applied else "already current"
    typer.echo(f"{settings.store}: schema {SCHEMA_VERSION}, {done}")


@app.command()
def info(
    store: Optional[Path] = STORE,
    db: Optional[str] = DATABASE,
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    failed: bool = typer.Option(False, "--failed", help="list the files that could not be indexed, and why"),
) -> None:
    """Show a store: items per modality, index layout and recorded recall, model, device, size on disk."""
    from xmodal.engine import Engine

    with user_errors():
        with Engine(load_settings(store=store, database_url=db)) as engine:
            if failed:
                _print_failures(engine.failures(), as_json)
                return
            report = engine.info()
    if as_json:
        typer.echo(json.dumps(report))
        return
    backend = report["vector_backend"]
    typer.echo(f"store   {report['store']} ({report['bytes_on_disk'] / 1e6:.1f} MB on disk)")
    if not report["database"].startswith("sqlite"):  # the default needs no line
        typer.echo(f"db      {report['database']}")
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


def _print_failures(items: list, as_json: bool) -> None:
    from xmodal.search import display_path

    if as_json:
        failed = [{"path": display_path(item.path), "modality": item.modality, "reason": item.error} for item in items]
        typer.echo(json.dumps({"failed": failed}, ensure_ascii=False))
        return
    for item in items:
        typer.echo(f"{display_path(item.path)}: {item.error}")
    typer.echo(f"{len(items)} files failed" if items else "no failed files", err=True)  # stdout: the list alone


@app.command()
def search(
    store: Optional[Path] = STORE,
    db: Optional[str] = DATABASE,
    text: Optional[str] = typer.Option(None, "--text", help="query text"),
    image: Optional[Path] = typer.Option(None, "--image", help="query image file"),
    audio: Optional[Path] = typer.Option(None, "--audio", help="query audio file"),
    item: Optional[str] = typer.Option(None, "--item", help="query by a stored item: its id, or its external id"),
    queries: Optional[Path] = typer.Option(None, "--queries", help="JSONL file of queries; one JSON result line each"),
    modality: Optional[List[str]] = MODALITY,
    k: int = typer.Option(10, "-k", min=1, max=1000, help="number of results"),
    fusion: str = typer.Option(
        "late", "--fusion", metavar="late|early", help="items with parts: score by their parts (late) or fused vector"
    ),
    weight: Optional[List[str]] = typer.Option(
        None, "--weight", metavar="KIND=W", help="fusion weight of a part modality, e.g. --weight audio=0; repeat"
    ),
    combine: str = typer.Option("sum", "--combine", metavar="sum|max", help="late fusion: weighted mean or best part"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    device: Optional[str] = DEVICE,
) -> None:
    """Search a store with a text, an image, a sound or a stored item; results of any modality. Items
    with parts are scored from their parts (--fusion, --weight, --combine)."""
    from xmodal.engine import Engine
    from xmodal.search import BatchQuery

    with user_errors():
        settings = load_settings(store=store, database_url=db, device=device)
    given = {
        name: value
        for name, value in (("text", text), ("image", image), ("audio", audio), ("item", item))
        if value is not None
    }
    if queries is None and len(given) != 1:
        err.print("xmodal: error: give exactly one of --text, --image, --audio, --item (or --queries FILE)")
        raise typer.Exit(2)
    with user_errors():  # the query is checked before the store opens and the model loads
        if queries is not None:
            lines = _query_lines(queries)
        else:
            try:
                fused = dict(fusion=fusion, weights=_weights(weight), combine=combine)
                query = BatchQuery(
                    **{key: str(value) for key, value in given.items()}, modality=modality or None, k=k, **fused
                )
            except ValidationError as error:
                raise Invalid(validation_message(error.errors())) from None
            _check_query_files(query.media_files().values())
    with user_errors(), Engine.open(settings) as engine:
        if queries is not None:
            with lines:
                for record in engine.run_batch(lines):
                    typer.echo(json.dumps(record, ensure_ascii=False))
            return
        hits = engine.run_query(query)
    if as_json:
        typer.echo(json.dumps({"results": [hit.to_dict() for hit in hits]}, ensure_ascii=False))
    else:
        _print_hits(hits)


def _weights(given: list[str] | None) -> dict[str, str] | None:
    """`--weight image=2 --weight audio=0` -> {"image": "2", "audio": "0"} (the query model checks them)."""
    if not given:
        return None
    pairs = [text.split("=", 1) for text in given]
    if any(len(pair) != 2 for pair in pairs):
        raise Invalid(f"--weight takes KIND=WEIGHT, e.g. audio=0.5 (kinds: {', '.join(modalities.NAMES)})")
    return {kind.strip(): value.strip() for kind, value in pairs}


def _query_lines(path: Path) -> TextIO:
    try:
        return open(path, encoding="utf-8", errors="replace")
    except OSError as error:
        raise Invalid(f"cannot read the queries file {path}: {error.strerror or error}") from None


def _check_query_files(paths: Iterable[str]) -> None:
    for path in paths:
        if not os.path.isfile(path):
            problem = "is a directory" if os.path.isdir(path) else "no such file"
            raise Invalid(f"cannot read the query file {path}: {problem}")


def _print_hits(hits: list) -> None:
    """The file name first, whole; the last column (a text, or the file's folder) gets what width is
    left, and a folder keeps its end, the part nearest the file."""
    from xmodal.search import display_path

    rows = []
    for rank, hit in enumerate(hits, start=1):
        path = display_path(hit.path)
        name = os.path.basename(path) if path else (hit.external_id or "")
        text = hit.text
        if hit.parts is not None:  # an item with parts: its id, and the part that matched best
            best = next((part for part in hit.parts if part.id == hit.best_part), None)
            name = os.path.basename(hit.external_id or "") or (hit.external_id or "")  # a stem's path: its name
            if best is not None:
                shown = best.text or best.piece or os.path.basename(display_path(best.path) or "")  # piece: a video's
                text = f"best {best.modality}: {shown}"
        rows.append((str(rank), f"{hit.score:.3f}", hit.modality, str(hit.id), name, path, text))
    headers = ("#", "score", "modality", "id", "name")
    console = Console()
    used = sum(max([len(header)] + [len(row[column]) for row in rows]) + 3 for column, header in enumerate(headers))
    room = max(console.width - used - 4, 12)  # 4: the last column's padding and the borders
    table = Table(*headers[:4])
    table.add_column("name", no_wrap=True)
    table.add_column("text / folder", no_wrap=True)
    for rank, score, modality, item, name, path, text in rows:
        if text:
            detail = _shorten(" ".join(text.split()), room)
        else:
            detail = _shorten(os.path.dirname(path or ""), room, keep_end=True)
        table.add_row(rank, score, modality, item, name, detail)
    console.print(table)


def _shorten(text: str, width: int, keep_end: bool = False) -> str:
    if len(text) <= width:
        return text
    return "…" + text[-(width - 1) :] if keep_end else text[: width - 1] + "…"


@app.command()
def serve(
    store: Optional[Path] = STORE,
    db: Optional[str] = DATABASE,
    host: Optional[str] = setting("host", "--host", help="interface to listen on"),
    port: Optional[int] = setting("port", "--port", help="port (0: any free one)"),
    device: Optional[str] = DEVICE,
) -> None:
    """Serve the search API (and its docs at /docs) over HTTP."""
    from xmodal.listener import listen, url

    with user_errors():
        settings = load_settings(store=store, database_url=db, host=host, port=port, device=device)
        listener = listen(settings.host, settings.port)  # first: a taken port fails before anything loads
        try:
            from xmodal.api import create_app
            from xmodal.engine import Engine

            engine = Engine.open(settings)
            engine.load()  # the model too, so that the URL below answers at once
            application = create_app(settings, engine)
        except BaseException:
            listener.close()
            raise
    err.print(f"xmodal: serving {settings.store} at {url(listener)}  (API docs: /docs)", markup=False)
    import uvicorn

    from xmodal.api.server import uvicorn_config

    config = uvicorn_config(application, listener, settings)
    with engine:
        uvicorn.Server(config).run(sockets=[listener])


@app.command()
def models(
    open_clip: bool = typer.Option(
        False, "--open-clip", help="list open_clip's architectures: dimension, pretrained tags"
    ),
) -> None:
    """Describe the models xmodal can load: modalities, dimension, where the weights come from, offline or not."""
    if open_clip:
        from xmodal.encoders.openclip import architectures

        typer.echo(f"{'architecture':<40} {'dim':>5}  pretrained tags (need the model hub once)")
        for name, dimension, tags in architectures():
            typer.echo(f"{name:<40} {dimension:>5}  {', '.join(tags) or '(no pretrained tags: use a checkpoint file)'}")
        return
    from xmodal.encoders.registry import describe_models

    for number, card in enumerate(describe_models()):
        default = "  (default)" if card.name == DEFAULT_MODEL else ""
        typer.echo(("\n" if number else "") + f"{card.name}{default}")
        described = (
            ("modalities", ", ".join(card.modalities)),
            ("dimension", card.dimension),
            ("weights", card.weights),
            ("offline", card.offline),
            ("about", card.about),
        )
        for label, value in described:
            if value:
                typer.echo(f"  {label:<11} {value}")


def main() -> None:
    app(prog_name="xmodal")


# Training and evaluation live in xmodal.training (imports the library, never the reverse);
# its module imports only typer and rich at the top, so registering it here costs nothing.
from xmodal.training.commands import evaluate, train  # noqa: E402

app.command("train")(train)
app.command("eval")(evaluate)
from xmodal.training.fusion_eval import evaluate_items  # noqa: E402

app.command("eval-items")(evaluate_items)
