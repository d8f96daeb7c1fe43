-- Each event's sales percentile: 1 holds the top 0.1% of events by gross sales.
-- eventid breaks ties so every warehouse ranks the same way.
select
    eventid,
    total_price,
    ntile(1000) over (order by total_price desc, eventid) as percentile
from {{ ref('all_gross_sales_model') }}
