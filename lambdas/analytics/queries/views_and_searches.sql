-- Views and searches per day: images opened and searches made through the API.
-- columns: day varchar, views bigint, searches bigint
WITH deduplicated AS (
    SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS delivery
    FROM {events}
)
SELECT
    dt AS day,
    sum(CASE WHEN event_type = 'view' THEN 1 ELSE 0 END) AS views,
    sum(CASE WHEN event_type = 'search' THEN 1 ELSE 0 END) AS searches
FROM deduplicated
WHERE delivery = 1 AND event_type IN ('view', 'search')
GROUP BY dt
ORDER BY dt
