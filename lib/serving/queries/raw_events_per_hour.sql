-- Events in the raw archive per event hour over the last 2 days: gaps show where the archive fell behind.
SELECT dt,
       hr,
       count(*)               AS events,
       count(DISTINCT txn_id) AS distinct_events
FROM raw_transactions
WHERE dt >= date_format(current_timestamp - INTERVAL '2' DAY, '%Y-%m-%d')
GROUP BY dt, hr
ORDER BY dt, hr
