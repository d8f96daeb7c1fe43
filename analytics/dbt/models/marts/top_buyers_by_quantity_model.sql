-- The 10 buyers who bought the most tickets; buyerid breaks ties.
select
    buyerid,
    sum(qtysold) as total_quantity
from {{ source('tickit', 'sales') }}
group by buyerid
order by total_quantity desc, buyerid
limit 10
