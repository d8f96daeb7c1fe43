-- Names and ticket counts of the top 10 buyers (unordered: readers order by
-- total_quantity desc, as a materialized view on Redshift cannot).
select
    u.firstname,
    u.lastname,
    q.total_quantity
from {{ ref('top_buyers_by_quantity_model') }} as q
inner join {{ source('tickit', 'users') }} as u
    on u.userid = q.buyerid
