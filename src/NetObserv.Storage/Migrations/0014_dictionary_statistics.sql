-- The dictionaries are analyzed as soon as they change. Autovacuum analyzes a table once 50 rows plus 10 %
-- have changed since the last time, so a dictionary of fewer than 50 rows (the contexts of a small
-- cluster: a handful) was never analyzed. Without statistics the planner guesses that a filter on a
-- context keeps almost none of it, estimates a few dozen flows where there are thousands, and joins the
-- endpoints of each flow by an index probe instead of one hash: the console's topology query over 1 h took
-- 27 ms instead of 12 on 2 million benchmark flows. One changed row now schedules an analyze (autovacuum
-- looks every minute); the tables are small, so it costs little.
-- Not analyzed here: statistics of an empty dictionary would tell the planner it is empty, and the lookups
-- in flow_endpoint_id and flow_context_id, planned once per session, would scan it row by row as it grows
-- (a never-analyzed table is planned as at least 10 pages, which keeps them on the unique index).
ALTER TABLE flow_contexts SET (autovacuum_analyze_threshold = 1);
ALTER TABLE flow_endpoints SET (autovacuum_analyze_threshold = 1);
ALTER TABLE flow_rollup_keys SET (autovacuum_analyze_threshold = 1);

-- The lookups by key hash use the unique index whatever the statistics say: each session plans them
-- once, and a plan made while a dictionary was a page or two (a sequential scan) would stay as it grows
-- to thousands of rows between two analyzes (new endpoints come in bursts: a rollout, a new node).
ALTER FUNCTION flow_endpoint_id SET enable_seqscan = off;
ALTER FUNCTION flow_context_id SET enable_seqscan = off;
ALTER FUNCTION flow_rollup_key_id SET enable_seqscan = off;
