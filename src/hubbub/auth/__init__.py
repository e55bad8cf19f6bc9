"""Authentication building blocks, pure and shared by the server and the client.

:mod:`.passwords` hashes and checks passwords (argon2id), :mod:`.scram` is
SCRAM-SHA-256 (RFC 5802 / RFC 7677) for both sides, :mod:`.saslprep`
prepares names and passwords (RFC 4013), and :mod:`.chunks` cuts and joins
the base64 payloads of the IRC ``AUTHENTICATE`` command. Nothing here does
I/O: the server runs the slow parts (hashing) on worker threads.
"""
