"""The image index path: JPEGs decoded at the smallest scale covering the encoder's input side, and
preprocessing a batch at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
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
    # Shapes and modes beyond the samples': grey, with alpha, tiny, very wide.
    return images + [images[0].convert("L"), images[1].convert("RGBA"), images[2].resize((40, 30)),
                     images[3].resize((900, 120))]


@pytest.mark.parametrize("image_size", [224, 260])
def test_a_batch_of_pixels_is_each_image_preprocessed(sample_images, image_size) -> None:
    batch = efficientnet_lite.pixels(sample_images, image_size)
    assert batch.shape == (len(sample_images), 3, image_size, image_size) and batch.dtype == torch.float32
    assert torch.equal(batch, torch.stack([efficientnet_lite.preprocess(image, image_size) for image in sample_images]))
