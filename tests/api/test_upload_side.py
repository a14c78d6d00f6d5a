"""An uploaded JPEG is decoded as an indexed one is (at the smallest scale covering the model's input
side), so searching with a file that is in the store finds it with the same vector."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.fakes import FakeEncoder


class SizeRecorder(FakeEncoder):
    image_input_side = 256

    def _encode_image(self, images):
        self.sizes = [image.size for image in images]
        return super()._encode_image(images)


@pytest.fixture
def encoder() -> SizeRecorder:
    return SizeRecorder()


def test_an_uploaded_jpeg_decodes_for_the_models_input_side(serve, encoder) -> None:
    client = serve(max_upload_bytes=2_000_000)
    buffer = io.BytesIO()
    Image.new("RGB", (1024, 768), (30, 120, 200)).save(buffer, "JPEG")
    response = client.post("/search", files={"file": ("photo.jpg", buffer.getvalue(), "image/jpeg")})
    assert response.status_code == 200, response.text
    assert encoder.sizes == [(512, 384)]  # not 768 x 576, the indexing cap before the encoder's side was known
