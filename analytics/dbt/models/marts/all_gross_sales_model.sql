-- Gross sales (sum of the price paid) of every event that sold tickets.
select
    eventid,
    sum(pricepaid) as total_price
from {{ source('tickit', 'sales') }}
group by eventid
