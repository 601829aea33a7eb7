-- Records the speed layer rejected in the last 7 days, by reason, with one example each.
SELECT reason,
       count(*)                                 AS records,
       arbitrary(detail)                        AS example_detail,
       min(from_unixtime(arrival_time / 1000))  AS first_arrival,
       max(from_unixtime(arrival_time / 1000))  AS last_arrival
FROM deadletter_speed
WHERE dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
GROUP BY reason
ORDER BY records DESC
