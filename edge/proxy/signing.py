"""Signing forwarded requests for their origin: the `Edge-Origin-Auth` header of CONTRACT section 6.

One `Signer` per site, built when the config loads. The text signed and the host normalisation come from
`edge.origin_guard`, the module origins run to verify, so the two sides cannot drift apart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

from edge.origin_guard import signed_text


class Signer:
    """HMAC-SHA256 with the site's current secret (the first of "new,old").

    The keyed HMAC state is prepared once and copied per request: `copy()` skips hashing the padded key
    twice, about 0.9 µs per signature against 1.3 µs for `hmac.new` each time (Python 3.11, OpenSSL 3).
    """

    __slots__ = ("_mac",)

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the origin secret is empty")
        self._mac = hmac.new(secret, digestmod=hashlib.sha256)

    @classmethod
    def from_env(cls, name: str, environ: Mapping[str, str] = os.environ) -> Signer:
        """The signer for `origin_auth.secret_env = name`; ValueError when the variable is unset or empty.

        config.py has already reported such a variable with its line, so here it means the environment
        changed between loading the config and building the site.
        """
        current = environ.get(name, "").split(",")[0].strip()
        if not current:
            raise ValueError(f"the environment variable {name} holds no origin secret")
        return cls(current.encode())

    def header(self, method: str, host: bytes, target: bytes, now: int) -> bytes:
        """The value of Edge-Origin-Auth for one forwarded request, `b"t=...,sig=..."`.

        `host` is the Host header edge forwards (its port and case do not matter), `target` the request
        target exactly as forwarded, `now` whole seconds of `time.time()`.
        """
        mac = self._mac.copy()
        mac.update(signed_text(now, method.encode("ascii"), host, target))
        return b"t=%d,sig=%s" % (now, mac.hexdigest().encode("ascii"))
