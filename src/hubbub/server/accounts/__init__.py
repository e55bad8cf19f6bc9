"""Accounts on the server side: the loop's view of the account store.

:mod:`.service` keeps the names of registered accounts in memory (a nick's
owner must be known at once, on NICK) and runs everything slow on worker
threads: reading an account, argon2 and PBKDF2, sending mail.
:mod:`.throttle` makes guessing passwords cost hours; :mod:`.mail` sends
verification codes. The commands (AUTHENTICATE, REGISTER, VERIFY) and the
NickServ/ChanServ services use these through ``Server.accounts``.
"""
