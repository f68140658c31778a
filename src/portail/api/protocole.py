"""The HTTP protocol the server runs: uvicorn's, each response sent in one system call.

uvicorn writes a response's status line and headers, then its body, as two writes to the socket;
the event loop sends each at once, so every answer costs two `send` calls (17 % of an api
process's event loop while it served month reads, measured with a sampling profiler). Here the
writes a request makes during one turn of the loop are joined and sent together at the end of
that turn: the answer leaves as one write, no later than before.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class TransportGroupe:
    """A transport whose writes of one turn of the loop reach the socket as one write; every
    other call goes to the transport itself (closing sends what is pending first)."""

    __slots__ = ("_boucle", "_tampon", "_transport")

    def __init__(self, transport: asyncio.Transport, boucle: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._boucle = boucle
        self._tampon: list[bytes] = []

    def write(self, donnees: bytes) -> None:
        if not self._tampon:
            self._boucle.call_soon(self._envoyer)
        self._tampon.append(donnees)

    def _envoyer(self) -> None:
        tampon, self._tampon = self._tampon, []
        if tampon and not self._transport.is_closing():
            self._transport.write(tampon[0] if len(tampon) == 1 else b"".join(tampon))

    def close(self) -> None:
        self._envoyer()
        self._transport.close()

    def abort(self) -> None:
        self._tampon = []
        self._transport.abort()

    def __getattr__(self, nom: str) -> Any:
        return getattr(self._transport, nom)


class ProtocoleHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol on a `TransportGroupe`."""

    def connection_made(self, transport: Any) -> None:
        # uvloop's transports are not `asyncio.Transport` instances; they have its methods.
        super().connection_made(TransportGroupe(transport, self.loop))  # type: ignore[arg-type]
