-- Records the speed layer rejected in the last 7 days, by reason, with one example message each.
SELECT reason,
       count(*)             AS records,
       arbitrary(message)   AS example_message,
       min(from_unixtime(dead_lettered_at / 1000)) AS first_seen,
       max(from_unixtime(dead_lettered_at / 1000)) AS last_seen
FROM deadletter_speed
WHERE dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
GROUP BY reason
ORDER BY records DESC
