-- 0003: registered channels (ChanServ REGISTER): who founded them, who gets
-- status back on join, and what survives a restart.
-- Released: never edit this file; change the schema with a new numbered file.

CREATE TABLE registered_channels (
    name_cf    text PRIMARY KEY,
    name       text NOT NULL,             -- as shown
    founder    text NOT NULL,             -- the founder's account name, as registered
    registered double precision NOT NULL, -- Unix seconds
    -- JSON (store/accounts.py): created, topic, topic_setter, topic_time, modes,
    -- key, limit, bans/excepts/invex, access. The keys are persisted: they
    -- must remain stable.
    state      text NOT NULL
);
