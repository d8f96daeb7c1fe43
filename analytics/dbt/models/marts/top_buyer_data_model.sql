-- Names and ticket counts of the top 10 buyers.
select
    u.firstname,
    u.lastname,
    q.total_quantity
from {{ ref('top_buyers_by_quantity_model') }} as q
inner join {{ source('tickit', 'users') }} as u
    on u.userid = q.buyerid
order by q.total_quantity desc
