-- Failures by code: failed images per reason code, most frequent first, with the last time seen.
-- columns: code varchar, failures bigint, owners bigint, last_seen varchar
WITH deduplicated AS (
    SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS delivery
    FROM {events}
)
SELECT
    coalesce(code, 'unknown') AS code,
    count(*) AS failures,
    count(DISTINCT owner) AS owners,
    max(occurred_at) AS last_seen
FROM deduplicated
WHERE delivery = 1 AND event_type = 'failed'
GROUP BY coalesce(code, 'unknown')
ORDER BY failures DESC, code
