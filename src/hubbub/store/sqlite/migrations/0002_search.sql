-- 0002: full-text search over history (SQLite FTS5, external content).
-- Released: never edit this file; change the schema with a new numbered file.

-- The index reads its text from history.text by rowid = history.id; the
-- store adds and removes entries itself (no triggers), so a server with
-- [history] search = false pays nothing for it.
CREATE VIRTUAL TABLE history_fts USING fts5 (
    text,
    content = 'history',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Index what is already there.
INSERT INTO history_fts (history_fts) VALUES ('rebuild');
INSERT INTO meta (key, value) VALUES ('search_indexed', '1');
