-- 0002: accounts (NickServ, SASL, draft/account-registration).
-- Released: never edit this file; change the schema with a new numbered file.

-- One row per account, by its casefolded name (the same casemapping as nicks).
-- The primary key settles a name registered twice at once, even by two
-- servers sharing this database: the first commit wins, the other is told
-- the name is taken. No password is ever stored: password_hash is argon2id,
-- scram holds the SCRAM-SHA-256 StoredKey and ServerKey.
CREATE TABLE accounts (
    name_cf        text PRIMARY KEY,
    name           text NOT NULL,             -- as registered (shown to clients)
    password_hash  text NOT NULL,             -- $argon2id$...
    scram          text NOT NULL,             -- SCRAM-SHA-256$iterations$salt$storedkey$serverkey
    email          text,
    created        double precision NOT NULL, -- Unix seconds
    -- false until the code mailed to email is given back (VERIFY); an unverified
    -- account reserves nothing and can be registered again once it expires.
    verified       boolean NOT NULL DEFAULT true,
    verify_hash    text,                      -- SHA-256 of the code, hex; NULL once verified
    verify_expires double precision           -- Unix seconds
);

-- TLS client certificates that log in to an account (SASL EXTERNAL): the
-- SHA-256 fingerprint of the DER certificate, lower-case hex. A certificate
-- belongs to one account at most.
CREATE TABLE certfps (
    fp      text PRIMARY KEY,
    account text NOT NULL         -- accounts.name_cf
);
CREATE INDEX certfps_account ON certfps (account);
