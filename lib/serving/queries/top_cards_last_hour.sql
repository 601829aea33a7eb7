-- Top 10 cards by spend in the last hour, from the speed view (partial sums per batch, added up here).
SELECT card_id,
       sum(txn_count)    AS txn_count,
       sum(total_amount) AS total_amount
FROM speed_spend_per_card_minute
WHERE dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')
  AND window_start >= to_unixtime(current_timestamp - INTERVAL '1' HOUR) * 1000
GROUP BY card_id
ORDER BY total_amount DESC
LIMIT 10
