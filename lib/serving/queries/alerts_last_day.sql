-- Fraud alerts raised by the speed layer in the last 24 hours, per rule.
SELECT rule,
       count(DISTINCT alert_id) AS alerts,
       count(DISTINCT card_id)  AS cards
FROM speed_alerts
WHERE dt >= date_format(current_timestamp - INTERVAL '1' DAY, '%Y-%m-%d')
  AND window_start >= to_unixtime(current_timestamp - INTERVAL '1' DAY) * 1000
GROUP BY rule
ORDER BY rule
