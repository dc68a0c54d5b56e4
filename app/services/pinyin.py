"""Pinyin initials for 快速查询 (张三 → zs).

pypinyin loads its phrase dictionary (~45 MiB of Python objects) when imported: it is imported on the first
name converted, not when the app starts, so a web worker that only shows pages does not carry it."""


def initials(text: str | None) -> str:
    if not text:
        return ""
    from pypinyin import Style, lazy_pinyin

    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER) if p).lower()[:32]
