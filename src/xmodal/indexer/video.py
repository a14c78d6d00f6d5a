"""Video files as items with parts: frames (image parts) and the soundtrack (an audio part), pieces of
the video file that the plan, commit and store handle like any item made from one file (indexer/parts.py).

The walk reads each video's header (nothing is decoded) to learn its parts, so a video that cannot be
read, is too long or has frames too large is one recorded failure with its reason, not one per part.
Each part is read from the file on its own when it is embedded (one seek per frame, encoders/video.py),
so a video never sits decoded in memory whole.
"""

from __future__ import annotations

from typing import Any

from xmodal import modalities
from xmodal.indexer.sources import ItemSource, Source, SourceProblem
from xmodal.modalities import Limits


class VideoParts:
    """Makes the item of a video file, within the job's limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def item(
        self, path: str, external_id: str | None = None, metadata: dict[str, Any] | None = None, where: str = ""
    ) -> ItemSource | SourceProblem:
        from xmodal.encoders.media import MediaError
        from xmodal.encoders.video import SOUNDTRACK, frame_name, probe_video

        try:
            layout = probe_video(path, modalities.video_caps(self.limits))
        except MediaError as error:
            return SourceProblem(where or path, str(error))
        except OSError as error:
            return SourceProblem(where or path, f"cannot read: {error.strerror or error}")
        count = layout.frames
        pieces = [Source("image", path, piece=frame_name(number, count)) for number in range(1, count + 1)]
        if layout.soundtrack:
            pieces.append(Source("audio", path, piece=SOUNDTRACK))
        return ItemSource(external_id or path, tuple(pieces), metadata or {}, where or path, path=path)
