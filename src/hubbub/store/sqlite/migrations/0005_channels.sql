-- 0005: registered channels (ChanServ REGISTER): who founded them, who gets
-- status back on join, and what survives a restart.
-- Released: never edit this file; change the schema with a new numbered file.

CREATE TABLE registered_channels (
    name_cf    TEXT PRIMARY KEY,
    name       TEXT NOT NULL,     -- as shown
    founder    TEXT NOT NULL,     -- the founder's account name, as registered
    registered REAL NOT NULL,     -- Unix seconds
    -- JSON: created, topic, topic_setter, topic_time, modes, key, limit,
    -- bans/excepts/invex ([mask, setter, time]...), access ([casefolded account, modes]...).
    -- The keys are persisted: they must remain stable.
    state      TEXT NOT NULL
) WITHOUT ROWID;
