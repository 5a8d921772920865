"""A real TLS handshake between two ssl.SSLObjects over memory BIOs: no sockets, no threads."""

from __future__ import annotations

import ssl


def handshake(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, server_name: str | None
) -> tuple[ssl.SSLObject, ssl.SSLObject]:
    """Drive both sides until each finished its handshake; return (client, server) objects.

    Raises the first ssl.SSLError either side raises.
    """
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_context.wrap_bio(c_in, c_out, server_hostname=server_name)
    server = server_context.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for side, obj in (("client", client), ("server", server)):
            if not done[side]:
                try:
                    obj.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            # TLS 1.3: the client finishes before the server has read its Finished; one more round.
            return client, server
    raise AssertionError("handshake did not finish")


def client_context(ca_pem: bytes, *, tls12_ciphers: str | None = None, cert_chain: str | None = None) -> ssl.SSLContext:
    """A verifying client; `tls12_ciphers` pins TLS 1.2 and those suites (to force ECDSA or RSA)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=ca_pem.decode())
    if tls12_ciphers:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(tls12_ciphers)
    if cert_chain:
        context.load_cert_chain(cert_chain)
    return context
