"""Where a secret may be sent: an https address, or plain http to this machine or its own
network. A key for a server at http://api.example.com crossed the network in clear text,
with no word said (attacker review)."""

from __future__ import annotations

import ipaddress

import httpx

_LOCAL_SUFFIXES = (".localhost", ".local", ".lan", ".internal", ".home.arpa")


def secret_may_go_to(url: str) -> bool:
    """Whether a key or token may be sent to `url`: https (or any scheme but http), or http
    to a loopback, private or link-local address, `localhost`, a name with no dot (this
    network's) or one under a local-only suffix. An address that cannot be read: no."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return False
    if parsed.scheme != "http":
        return True
    host = parsed.host.lower().rstrip(".")
    try:
        # a dotless number is an address too: glibc reads http://134744072 as 8.8.8.8
        address = ipaddress.ip_address(int(host, 0) if host[:1].isdigit() and "." not in host else host)
    except ValueError:
        return "." not in host or host == "localhost" or host.endswith(_LOCAL_SUFFIXES)
    return address.is_loopback or address.is_private or address.is_link_local


def plain_http_refusal(url: str, what: str) -> str:
    """The message for a secret that would go in clear text to `url`."""
    host = httpx.URL(url).host
    return (
        f"{what} would go unencrypted to {host} (plain http across the network): use an https:// address "
        "(plain http is fine for localhost and private addresses)"
    )


def shown_url(url: str) -> str:
    """`url` as thau shows it (doctor, the model picker, a server's error): without its
    user:password, each query value as "…", so a secret written into the address is never on
    screen or in a log (servers review). An address that cannot be read: only its scheme and
    host, as far as they can be told."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError):
        return url.split("@")[-1].split("?")[0]
    shown = parsed.copy_with(username=None, password=None, fragment=None)
    if parsed.query:
        keys = [key for key, _value in parsed.params.multi_items()]
        shown = shown.copy_with(query=None)
        return str(shown) + "?" + "&".join(f"{key}=…" for key in keys)
    return str(shown)


def hide_url_secrets(text: str, url: str) -> str:
    """`text` (an error that may quote `url`, in whole or in part) with the address shown as
    `shown_url` shows it and any of its secret parts left elsewhere in the text as "…"."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError):
        return text
    text = text.replace(url.strip(), shown_url(url))
    secrets = [parsed.password or "", *(value for _key, value in parsed.params.multi_items())]
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "…")
    return text
