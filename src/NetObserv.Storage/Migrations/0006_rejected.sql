-- Dead letters: flow records the database refused for what they hold (any error other than the
-- database being unavailable: a value too large for an index, out of range, invalid text...). The
-- writer isolates them by splitting their batch, stores the rest, and keeps each refused record here
-- with the reason. Bounded: rows older than the flows' retention are deleted by storage maintenance,
-- and no row is added past Storage:RejectedMaxRows (the refused record is then only counted).
CREATE TABLE flows_rejected (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    tenant      text        NOT NULL,
    sqlstate    text,
    error       text        NOT NULL,
    record      text
);

CREATE INDEX flows_rejected_rejected_at_idx ON flows_rejected (rejected_at);
