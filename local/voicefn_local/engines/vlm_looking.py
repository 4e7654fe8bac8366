"""The embedded DashScope's vision engine: it really looks at the picture and says what it can
measure — size, orientation, brightness and dominant colours — in the question's language
(Chinese when the question has CJK characters, else English).

No small vision-language model ships in a registry package, so this engine does not *understand*
a picture; it answers from measurements. Point voicefn at a real VLM for that (README).
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

from voicefn.text.charclass import is_cjk

# Named colours with their Chinese names; a pixel takes the nearest one.
PALETTE: tuple[tuple[str, str, tuple[int, int, int]], ...] = (
    ("red", "红色", (220, 30, 30)), ("orange", "橙色", (245, 140, 20)), ("yellow", "黄色", (240, 220, 30)),
    ("green", "绿色", (40, 170, 50)), ("cyan", "青色", (30, 200, 210)), ("blue", "蓝色", (30, 60, 220)),
    ("purple", "紫色", (140, 50, 180)), ("pink", "粉色", (245, 150, 190)), ("brown", "棕色", (130, 80, 40)),
    ("white", "白色", (245, 245, 245)), ("grey", "灰色", (128, 128, 128)), ("black", "黑色", (15, 15, 15)),
)


class ImageUnreadable(ValueError):
    """The bytes are not a picture Pillow can decode."""


@dataclass(frozen=True)
class Looked:
    width: int
    height: int
    brightness: float                     # 0 (black) .. 1 (white), mean luma
    colours: tuple[tuple[str, str, float], ...]  # (english, chinese, share), most common first

    @property
    def orientation(self) -> str:
        if self.width > self.height * 1.1:
            return "landscape"
        if self.height > self.width * 1.1:
            return "portrait"
        return "square"


def _nearest(rgb: tuple[int, int, int]) -> int:
    return min(range(len(PALETTE)), key=lambda i: sum((a - b) ** 2 for a, b in zip(rgb, PALETTE[i][2])))


def look(data: bytes) -> Looked:
    """Measure the picture (decoded by Pillow, sampled down to 64×64 for the colours)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            small = img.convert("RGB").resize((64, 64))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageUnreadable(f"the image cannot be decoded: {exc}") from None
    pixels = list(small.get_flattened_data())
    luma = sum(0.299 * r + 0.587 * g + 0.114 * b for r, g, b in pixels) / (255 * len(pixels))
    counts = Counter(_nearest(p) for p in pixels)
    colours = tuple((PALETTE[i][0], PALETTE[i][1], n / len(pixels)) for i, n in counts.most_common(3)
                    if n / len(pixels) >= 0.1)
    return Looked(width, height, round(luma, 3), colours)


def _brightness_word(b: float, chinese: bool) -> str:
    if chinese:
        return "很暗" if b < 0.25 else "偏暗" if b < 0.45 else "明亮" if b > 0.7 else "亮度适中"
    return "very dark" if b < 0.25 else "rather dark" if b < 0.45 else "bright" if b > 0.7 else "moderately lit"


def describe(looked: Looked, question: str) -> str:
    """The answer, in Chinese for a Chinese question, else in English."""
    chinese = any(is_cjk(ch) for ch in question)
    main = looked.colours[0] if looked.colours else PALETTE[10][:2] + (1.0,)
    if chinese:
        shape = {"landscape": "横向", "portrait": "竖向", "square": "近似正方形"}[looked.orientation]
        others = "、".join(c[1] for c in looked.colours[1:])
        text = f"这张图片的主色调是{main[1]}，约占{round(main[2] * 100)}%。"
        if others:
            text += f"其他明显的颜色有{others}。"
        return text + (f"画面{_brightness_word(looked.brightness, True)}，是一张{looked.width}乘{looked.height}像素的"
                       f"{shape}图片。")
    others = " and ".join(c[0] for c in looked.colours[1:])
    text = f"The picture is mostly {main[0]}, about {round(main[2] * 100)} percent of it."
    if others:
        text += f" There is also some {others}."
    return text + (f" It is {_brightness_word(looked.brightness, False)}, a {looked.orientation} image of "
                   f"{looked.width} by {looked.height} pixels.")
