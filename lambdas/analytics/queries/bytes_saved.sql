-- Bytes saved per day: original bytes against compressed bytes of the images processed that day and not deleted since.
-- columns: day varchar, images bigint, bytes_in bigint, bytes_out bigint, bytes_saved bigint, size_ratio double
WITH deduplicated AS (
    SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS delivery
    FROM {events}
)
SELECT
    dt AS day,
    count(*) AS images,
    sum(bytes_in) AS bytes_in,
    sum(bytes_out) AS bytes_out,
    sum(greatest(bytes_in - bytes_out, 0)) AS bytes_saved,
    round(CAST(sum(bytes_out) AS DOUBLE) / nullif(sum(bytes_in), 0), 4) AS size_ratio
FROM deduplicated
WHERE delivery = 1 AND event_type = 'processed' AND bytes_in IS NOT NULL AND bytes_out IS NOT NULL
    AND image_id NOT IN (SELECT image_id FROM {all_events} WHERE event_type = 'delete' AND image_id IS NOT NULL)
GROUP BY dt
ORDER BY dt
