"""Pinyin initials for 快速查询 (张三 → zs)."""
from pypinyin import Style, lazy_pinyin


def initials(text: str | None) -> str:
    if not text:
        return ""
    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER) if p).lower()[:32]
