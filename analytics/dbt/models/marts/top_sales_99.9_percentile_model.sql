-- The events in the 99.9th sales percentile (no ORDER BY: Redshift refuses it
-- in a materialized view; readers order by total_price desc).
select
    e.eventname,
    p.total_price
from {{ ref('percentile_sales_model') }} as p
inner join {{ source('tickit', 'event') }} as e
    on e.eventid = p.eventid
where p.percentile = 1
