-- Spill journal files already written to flows and the rollups. A file's id is inserted in the same
-- transaction as its rows, so a file left on disk by a crash between commit and delete is recognised
-- and deleted without being written twice. A file replayed in parts (a record the database refuses
-- splits it) records one id per part: "{file id}#{first record}+{records}".
CREATE TABLE spill_replayed (
    id          text        PRIMARY KEY,
    rows        bigint      NOT NULL,
    replayed_at timestamptz NOT NULL DEFAULT now()
);
