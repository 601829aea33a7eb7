-- Customers who spent over 1000 in one hour today, from the speed view (the HAVING the speed layer leaves to the serving layer).
SELECT customer_id,
       from_unixtime(window_start / 1000) AS hour_start,
       sum(txn_count)                     AS txn_count,
       sum(total_amount)                  AS total_amount
FROM speed_spend_per_customer_hour
WHERE dt = date_format(current_timestamp, '%Y-%m-%d')
GROUP BY customer_id, window_start
HAVING sum(total_amount) > 1000
ORDER BY total_amount DESC
