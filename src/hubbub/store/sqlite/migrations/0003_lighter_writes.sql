-- 0003: less work per stored message (measured: benchmarks/bench_history.py).
-- Released: never edit this file; change the schema with a new numbered file.

-- Times become row ids by a binary search over the ids (ids and times rise
-- together), so the time index is not needed; and a msgid starts with its
-- time (hubbub.events.make_msgid), so a message is found among the few rows
-- of its millisecond without an index of msgids. Two B-trees less per insert.
DROP INDEX history_time;
DROP INDEX history_msgid;

-- The search index keeps which rows hold a word, not where in the row
-- (detail=none: SEARCH asks for all words, as prefixes, in any order), and
-- no per-row length table (columnsize=0: results are ordered by time, not
-- ranked). Rebuilt from the rows.
DROP TABLE history_fts;
CREATE VIRTUAL TABLE history_fts USING fts5 (
    text,
    content = 'history',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    detail = none,
    columnsize = 0
);
-- Merge segments 16 at a time rather than 4: each word is rewritten fewer
-- times over its life (about 0.2 us less per stored message; a search reads
-- a few more segments, and searches are rare next to messages).
INSERT INTO history_fts (history_fts, rank) VALUES ('automerge', 16);
INSERT INTO history_fts (history_fts) VALUES ('rebuild');
INSERT INTO meta (key, value) VALUES ('search_indexed', '1')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
DELETE FROM meta WHERE key = 'search_upto';
