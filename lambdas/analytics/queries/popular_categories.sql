-- Popular categories: processed images per category (an image counts in each of its categories).
WITH deduplicated AS (
    SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS delivery
    FROM {events}
)
SELECT
    category,
    count(*) AS images,
    count(DISTINCT owner) AS owners
FROM deduplicated
CROSS JOIN UNNEST(categories) AS listed (category)
WHERE delivery = 1 AND event_type = 'processed'
GROUP BY category
ORDER BY images DESC, category
