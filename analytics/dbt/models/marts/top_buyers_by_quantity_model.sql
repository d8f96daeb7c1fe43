-- The 10 buyers who bought the most tickets; buyerid breaks ties.
-- A row_number() filter rather than ORDER BY ... LIMIT: Redshift refuses
-- ORDER BY, LIMIT and OFFSET in a materialized view, and a stored relation
-- keeps no order anyway (whoever shows the rows orders them).
with totals as (
    select
        buyerid,
        sum(qtysold) as total_quantity
    from {{ source('tickit', 'sales') }}
    group by buyerid
),

ranked as (
    select
        buyerid,
        total_quantity,
        row_number() over (order by total_quantity desc, buyerid) as buyer_rank
    from totals
)

select
    buyerid,
    total_quantity
from ranked
where buyer_rank <= 10
