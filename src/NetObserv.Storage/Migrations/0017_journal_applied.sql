-- Write-ahead journal positions already in flows and the rollups. The writer inserts the positions of
-- the journal batches it commits in the same transaction as their rows, so after a crash the replayer
-- writes exactly the batches above what is recorded here. A row with through = true says every
-- position at or below it is applied; the writer compacts the rows below it into that one row.
CREATE TABLE journal_applied (
    journal_id text        NOT NULL,
    position   bigint      NOT NULL,
    through    boolean     NOT NULL DEFAULT false,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (journal_id, position)
);
