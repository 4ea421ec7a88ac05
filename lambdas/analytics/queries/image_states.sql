-- Images by state: the images uploaded in the period, by what became of them (ready, failed, deleted or still processing).
-- columns: state varchar, images bigint
WITH uploaded AS (
    SELECT DISTINCT image_id
    FROM {events}
    WHERE event_type = 'upload' AND image_id IS NOT NULL
),
outcomes AS (
    SELECT image_id, event_type, row_number() OVER (PARTITION BY image_id ORDER BY occurred_at DESC, event_type) AS latest
    FROM {all_events}
    WHERE event_type IN ('processed', 'failed', 'delete') AND image_id IS NOT NULL
)
SELECT
    CASE outcomes.event_type
        WHEN 'processed' THEN 'ready'
        WHEN 'failed' THEN 'failed'
        WHEN 'delete' THEN 'deleted'
        ELSE 'processing'
    END AS state,
    count(*) AS images
FROM uploaded
LEFT JOIN outcomes ON outcomes.image_id = uploaded.image_id AND outcomes.latest = 1
GROUP BY 1
ORDER BY images DESC, state
