"""All of the bridge's SQL, one module per table family.

Functions take a `sqlite3.Connection` (usually from `Database.transaction()`), so a webhook can
store alerts and enqueue their emails in one transaction: a crash after the 2xx still sends.
"""
