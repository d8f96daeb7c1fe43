-- The events in the 99.9th sales percentile, highest gross sales first.
select
    e.eventname,
    p.total_price
from {{ ref('percentile_sales_model') }} as p
inner join {{ source('tickit', 'event') }} as e
    on e.eventid = p.eventid
where p.percentile = 1
order by p.total_price desc
