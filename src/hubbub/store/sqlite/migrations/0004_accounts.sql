-- 0004: accounts (NickServ, SASL, draft/account-registration).
-- Released: never edit this file; change the schema with a new numbered file.

-- One row per account, by its casefolded name (the same casemapping as nicks).
-- No password is ever stored: password_hash is argon2id, scram holds the
-- SCRAM-SHA-256 StoredKey and ServerKey (salted PBKDF2 derivations).
CREATE TABLE accounts (
    name_cf        TEXT PRIMARY KEY,
    name           TEXT NOT NULL,     -- as registered (shown to clients)
    password_hash  TEXT NOT NULL,     -- $argon2id$...
    scram          TEXT NOT NULL,     -- SCRAM-SHA-256$iterations$salt$storedkey$serverkey
    email          TEXT,
    created        REAL NOT NULL,     -- Unix seconds
    -- 0 until the code mailed to email is given back (VERIFY); an unverified
    -- account reserves nothing and can be registered again once it expires.
    verified       INTEGER NOT NULL DEFAULT 1,
    verify_hash    TEXT,              -- SHA-256 of the code, hex; NULL once verified
    verify_expires REAL               -- Unix seconds
) WITHOUT ROWID;

-- TLS client certificates that log in to an account (SASL EXTERNAL): the
-- SHA-256 fingerprint of the DER certificate, lower-case hex. A certificate
-- belongs to one account at most.
CREATE TABLE certfps (
    fp      TEXT PRIMARY KEY,
    account TEXT NOT NULL         -- accounts.name_cf
) WITHOUT ROWID;
CREATE INDEX certfps_account ON certfps (account);
