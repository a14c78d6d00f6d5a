"""The image index path's shortcuts against their references: reduced-scale JPEG decoding for the
encoder's input side, and the one-resize preprocessing against `efficientnet_lite.preprocess`."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tests.fakes import FakeEncoder
from xmodal.config import Settings
from xmodal.encoders import efficientnet_lite
from xmodal.encoders.media import load_image
from xmodal.indexer import IndexJob, collect_sources
from xmodal.store import Store

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "corpus" / "images"
BIG = 50_000_000


def photo(path: Path, size: tuple[int, int]) -> Path:
    source = Image.open(sorted(SAMPLES.glob("*.jpg"))[0]).convert("RGB")
    source.resize(size).save(path, quality=90)
    return path


@pytest.mark.parametrize(
    ("size", "decoded"),
    [((1024, 768), (512, 384)), ((768, 1024), (384, 512)), ((4000, 3000), (500, 375)), ((600, 400), (600, 400))],
)
def test_a_jpeg_decodes_at_the_smallest_scale_that_covers_the_encoder_side(tmp_path, size, decoded) -> None:
    image = load_image(photo(tmp_path / "photo.jpg", size), BIG, max_side=768, min_side=256)
    assert image.size == decoded and image.mode == "RGB"


def test_the_longer_side_still_obeys_max_side_and_other_formats_decode_whole(tmp_path) -> None:
    assert load_image(photo(tmp_path / "wide.jpg", (4096, 600)), BIG, max_side=768, min_side=256).width == 768
    Image.new("RGB", (1024, 768), "red").save(tmp_path / "flat.png")
    assert load_image(tmp_path / "flat.png", BIG, max_side=768, min_side=256).size == (768, 576)


def test_indexing_decodes_for_the_encoders_input_side(tmp_path) -> None:
    class SizeRecorder(FakeEncoder):
        image_input_side = 256

        def _encode_image(self, images):
            self.sizes = [image.size for image in images]
            return super()._encode_image(images)

    encoder = SizeRecorder()
    photo(tmp_path / "photo.jpg", (1024, 768))
    settings = Settings(store=tmp_path / "store")
    store = Store.open(settings.store, encoder.info.identity(), writable=True)
    IndexJob(store, encoder, settings).run(collect_sources([tmp_path / "photo.jpg"]))
    store.close()
    assert encoder.sizes == [(512, 384)]


@pytest.fixture(scope="module")
def sample_images() -> list[Image.Image]:
    images = [Image.open(path) for path in sorted(SAMPLES.glob("*.jpg"))]
    assert len(images) >= 20
    # Shapes and modes beyond the samples': grey, palette with transparency, tiny, very wide.
    return images + [images[0].convert("L"), images[1].convert("RGBA"), images[2].resize((40, 30)),
                     images[3].resize((900, 120))]


def test_pixels_give_the_reference_preprocessing(sample_images) -> None:
    fast = efficientnet_lite.pixels(sample_images)
    reference = torch.stack([efficientnet_lite.preprocess(image) for image in sample_images])
    assert fast.shape == reference.shape and fast.dtype == torch.float32
    # Same sample positions and filter; only rounding to uint8 differs (at most a step or two of 1/128).
    assert (fast - reference).abs().max() <= 2 / 128
    tower = efficientnet_lite.load_efficientnet_lite0()
    with torch.inference_mode():
        assert F.cosine_similarity(tower.features(fast), tower.features(reference)).min() >= 0.9999


def test_pixels_follow_the_reference_at_lite2s_input_size(sample_images) -> None:
    fast = efficientnet_lite.pixels(sample_images, 260)
    reference = torch.stack([efficientnet_lite.preprocess(image, 260) for image in sample_images])
    assert fast.shape == reference.shape == (len(sample_images), 3, 260, 260)
    assert (fast - reference).abs().max() <= 2 / 128
