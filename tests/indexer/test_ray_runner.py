"""The embed stage on a real local Ray cluster: the same store as the inline runner, a dead worker
costs a retry, and `xmodal index --ray` runs a job through it. Skipped when Ray is not installed
(it is the optional `ray` extra, ~600 MB: `XMODAL_RAY=1 scripts/setup.sh`, as CI does)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import FakeEncoder
from xmodal.indexer import IndexJob, collect_sources
from xmodal.indexer.embed_ray import RayRunner
from xmodal.modalities import Limits
from xmodal.store import Store

ray = pytest.importorskip("ray", reason="Ray is not installed (optional extra: pip install 'xmodal[ray]')")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster():
    """A one-CPU local cluster whose workers can import the tests' fake encoders."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "src"), before or ""])  # workers inherit it
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    if before is None:
        os.environ.pop("PYTHONPATH")
    else:
        os.environ["PYTHONPATH"] = before


class CrashOnce(FakeEncoder):
    """Kills its worker process the first time it meets the word 'crash' (a marker file remembers)."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def _encode_text(self, texts):
        if any("crash" in text for text in texts) and not os.path.exists(self.marker):
            Path(self.marker).touch()
            os._exit(1)
        return super()._encode_text(texts)


def contents(store: Store) -> dict[str, tuple]:
    """path -> (modality, status, content hash, vector) for every item."""
    found = {}
    for path, item_id, _ in store.file_paths():
        item = store.get([item_id])[item_id]
        vector = store.vectors(item.modality).vector(item_id) if item.status == "indexed" else None
        found[path] = (item.modality, item.status, item.content_hash, vector)
    return found


def index(store_dir: Path, corpus: Path, settings, runner=None) -> Store:
    store = Store.open(store_dir, FakeEncoder().info.identity(), writable=True)
    IndexJob(store, FakeEncoder(), settings, runner=runner).run(collect_sources([corpus]))
    return store


def test_ray_gives_the_store_the_inline_runner_gives(cluster, corpus, settings, tmp_path) -> None:
    (corpus / "img" / "broken.png").write_bytes(b"not a png")
    for number in range(7):
        (corpus / "txt" / f"note-{number}.txt").write_text(f"note number {number}")
    inline = contents(index(tmp_path / "inline", corpus, settings))
    with RayRunner(FakeEncoder, Limits.for_indexing(settings), settings.batch_size) as runner:
        on_ray = contents(index(tmp_path / "ray", corpus, settings, runner))
    assert on_ray.keys() == inline.keys() and len(inline) == 15
    for path, (modality, status, content_hash, vector) in inline.items():
        assert on_ray[path][:3] == (modality, status, content_hash), path
        if vector is not None:
            np.testing.assert_allclose(on_ray[path][3], vector, atol=1e-6)


def test_a_dead_worker_costs_a_retry_not_the_job(cluster, corpus, settings, tmp_path) -> None:
    (corpus / "txt" / "crash.txt").write_text("crash here")
    marker = tmp_path / "crashed"
    with RayRunner(partial(CrashOnce, str(marker)), Limits.for_indexing(settings), settings.batch_size) as runner:
        store = index(tmp_path / "store", corpus, settings, runner)
    assert marker.exists()  # the worker really died
    assert store.counts() == {"text": {"indexed": 3}, "image": {"indexed": 3}, "audio": {"indexed": 2}}
    assert store.verify() == []


def test_index_with_ray_from_the_command_line(tmp_path: Path, corpus: Path, tiny_clip_spec: str) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    store = tmp_path / "store"
    command = [sys.executable, "-m", "xmodal", "index", "--store", store, "--model", tiny_clip_spec, "--ray", corpus]
    done = subprocess.run(list(map(str, command)), capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "indexed 5, unchanged 0, failed 2" in done.stdout  # the tiny model has no audio tower
    command = [sys.executable, "-m", "xmodal", "info", "--store", str(store), "--json"]
    info = subprocess.run(command, capture_output=True, text=True, env=env)
    assert json.loads(info.stdout)["items"]["image"]["indexed"] == 3
