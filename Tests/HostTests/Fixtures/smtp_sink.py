#!/usr/bin/env python3
"""An SMTP server (aiosmtpd) on loopback for the NotifierSMTP tests.

Offers STARTTLS (RFC 3207) with --tls-cert/--tls-key and then requires it; with --user and
--password it also requires AUTH (PLAIN or LOGIN, RFC 4954) with exactly those credentials,
after STARTTLS. --no-starttls serves plain SMTP only, without AUTH. --implicit-tls speaks TLS
from the first byte (smtps, RFC 8314) instead of offering STARTTLS.
Every message received goes to --log FILE as one JSON line: the envelope (mail_from, rcpt_tos),
whether it came over TLS, the authenticated login, the raw message (data, latin-1) and what
Python's email parser reads from it (headers with RFC 2047 words decoded, and each text part).
Writes the port to --port-file when listening on 127.0.0.1 (--port, default 0: a free port)."""
import argparse, asyncio, email, email.header, email.policy, json, os, ssl, threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

args = None
lock = threading.Lock()


def log(entry):
    with lock, open(args.log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def parsed(data):
    message = email.message_from_bytes(data, policy=email.policy.default)
    headers = [[name, str(email.header.make_header(email.header.decode_header(value)))]
               for name, value in message.raw_items()]
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append({"content_type": part.get_content_type(), "text": part.get_content()})
    return {"headers": headers, "content_type": message.get_content_type(), "parts": parts}


class Handler:
    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        log({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "tls": tls,
             "login": login, "data": data.decode("latin-1"), **parsed(data)})
        return "250 2.0.0 stored"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
          and auth_data.password.decode() == args.password)
    # handled=False: smtp_AUTH answers 535 itself (the default, True, would answer nothing).
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def tls_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    return context


def factory():
    options = {"hostname": "sink.test", "ident": "smtp_sink"}
    if not args.no_starttls and not args.implicit_tls:
        options.update(tls_context=tls_context(), require_starttls=True)
    if args.user:
        # Over implicit TLS aiosmtpd does not know the session is encrypted: allow AUTH there.
        options.update(authenticator=authenticator, auth_required=True,
                       auth_require_tls=not args.no_starttls and not args.implicit_tls)
    return SMTP(Handler(), **options)


async def main():
    server = await asyncio.get_running_loop().create_server(
        factory, host="127.0.0.1", port=args.port, ssl=tls_context() if args.implicit_tls else None)
    port = server.sockets[0].getsockname()[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(args.port_file + ".tmp", args.port_file)
    await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-starttls", action="store_true")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    asyncio.run(main())
