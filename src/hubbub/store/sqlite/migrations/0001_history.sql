-- 0001: what was said and what happened, in channels and private conversations.
-- Released: never edit this file; change the schema with a new numbered file.

-- Settings the database keeps about itself (key -> value).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Channels by casefolded name. History rows point at the id, so a rename
-- (draft/channel-rename) moves one name instead of every row.
CREATE TABLE channels (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- One row per event per channel it belongs to (a QUIT seen in three channels
-- is three rows with one msgid), and one row per private message.
CREATE TABLE history (
    id      INTEGER PRIMARY KEY,  -- the order events were delivered in
    conv    INTEGER,              -- channels.id; NULL for a private message
    msgid   TEXT NOT NULL,
    time_ms INTEGER NOT NULL,     -- server-time, Unix milliseconds
    -- PRIVMSG NOTICE TAGMSG JOIN PART KICK QUIT NICK TOPIC MODE, or REDACTED
    -- (a placeholder whose text is gone). Persisted: these names must remain stable.
    kind    TEXT NOT NULL,
    uid     TEXT NOT NULL,        -- who caused it
    account TEXT,                 -- their account then, if they were logged in
    source  TEXT NOT NULL,        -- their nick!user@host then
    target  TEXT,                 -- the target as delivered, the channel, or the new nick
    status  TEXT,                 -- STATUSMSG prefix (@, +): only members of that rank read it
    text    TEXT,                 -- message text, reason or topic; NULL once redacted
    fields  TEXT                  -- JSON: the event's remaining fields (see rows.py)
);
CREATE INDEX history_conv ON history (conv, id) WHERE conv IS NOT NULL;
CREATE INDEX history_msgid ON history (msgid);
CREATE INDEX history_time ON history (time_ms);

-- Who may read a private message: each party ("owner": 'a:<account>' when
-- logged in, else 'u:<uid>'), with the other party's nick then. A message
-- to oneself has one row; every other private message has two.
CREATE TABLE private (
    owner TEXT NOT NULL,
    peer  TEXT NOT NULL,          -- the other party's casefolded nick
    id    INTEGER NOT NULL,       -- history.id
    nick  TEXT NOT NULL,          -- the other party's nick as shown
    PRIMARY KEY (owner, peer, id)
) WITHOUT ROWID;
CREATE INDEX private_id ON private (id);
