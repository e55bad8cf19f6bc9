"""Persistence behind small interfaces: history, accounts.

:mod:`.base` says what the server needs of a store; :mod:`.null` is the
store of a server that keeps nothing. Callers never test whether
persistence is on: they always have a store, which may be the null one.
"""
