-- Active users per day: distinct owners with any event (upload, view, search, delete...) that day.
-- columns: day varchar, active_users bigint, events bigint
WITH deduplicated AS (
    SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS delivery
    FROM {events}
)
SELECT
    dt AS day,
    count(DISTINCT owner) AS active_users,
    count(*) AS events
FROM deduplicated
WHERE delivery = 1
GROUP BY dt
ORDER BY dt
