with items as (
    select order_id, count(*) as item_count, sum(line_amount) as gross_revenue
    from {{ ref('stg_order_items') }}
    group by order_id
),

ranked as (
    select
        order_id,
        row_number() over (partition by customer_id order by order_date, order_id) as order_number
    from {{ ref('stg_orders') }}
)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.status,
    orders.channel,
    items.item_count,
    items.gross_revenue,
    payments.payment_method,
    payments.payment_status,
    payments.payment_status = 'refunded' as is_refunded,
    case when payments.payment_status = 'success' then items.gross_revenue else 0 end as net_revenue,
    ranked.order_number = 1 as is_first_order
from {{ ref('stg_orders') }} as orders
join items on items.order_id = orders.order_id
join ranked on ranked.order_id = orders.order_id
left join {{ ref('stg_payments') }} as payments on payments.order_id = orders.order_id
