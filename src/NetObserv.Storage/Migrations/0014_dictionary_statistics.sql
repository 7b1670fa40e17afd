-- The dictionaries are analyzed as soon as they change. Autovacuum analyzes a table once 50 rows plus 10 %
-- have changed since the last time, so a dictionary of fewer than 50 rows (the contexts of a small
-- cluster: a handful) was never analyzed. Without statistics the planner guesses that a filter on a
-- context keeps almost none of it, estimates a few dozen flows where there are thousands, and joins the
-- endpoints of each flow by an index probe instead of one hash: the console's topology query over 1 h took
-- 27 ms instead of 12 on 2 million benchmark flows. One changed row now schedules an analyze (autovacuum
-- looks every minute); the tables are small, so it costs little.
ALTER TABLE flow_contexts SET (autovacuum_analyze_threshold = 1);
ALTER TABLE flow_endpoints SET (autovacuum_analyze_threshold = 1);
ALTER TABLE flow_rollup_keys SET (autovacuum_analyze_threshold = 1);
ANALYZE flow_contexts, flow_endpoints, flow_rollup_keys;
