-- Uploads per day: originals received by the pipeline, the people who sent them and their bytes.
-- columns: day varchar, uploads bigint, uploaders bigint, bytes_uploaded bigint
WITH deduplicated AS (
    SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS delivery
    FROM {events}
)
SELECT
    dt AS day,
    count(*) AS uploads,
    count(DISTINCT owner) AS uploaders,
    coalesce(sum(bytes_in), 0) AS bytes_uploaded
FROM deduplicated
WHERE delivery = 1 AND event_type = 'upload'
GROUP BY dt
ORDER BY dt
