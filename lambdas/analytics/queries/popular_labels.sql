-- Popular labels: images processed in the period and not deleted since, per label (an image counts in each of its labels).
-- columns: label varchar, images bigint, owners bigint
WITH deduplicated AS (
    SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS delivery
    FROM {events}
)
SELECT
    label,
    count(*) AS images,
    count(DISTINCT owner) AS owners
FROM deduplicated
CROSS JOIN UNNEST(labels) AS listed (label)
WHERE delivery = 1 AND event_type = 'processed'
    AND image_id NOT IN (SELECT image_id FROM {all_events} WHERE event_type = 'delete' AND image_id IS NOT NULL)
GROUP BY label
ORDER BY images DESC, label
