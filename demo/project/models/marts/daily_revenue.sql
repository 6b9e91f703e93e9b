select
    order_date,
    count(*) as orders,
    sum(net_revenue) as revenue,
    sum(gross_revenue) as gross_revenue,
    count(distinct customer_id) as customers,
    count(*) filter (where is_first_order) as new_customers,
    sum(net_revenue) / nullif(count(*) filter (where payment_status = 'success'), 0) as average_order_value,
    count(*) filter (where is_refunded) as refunds,
    count(*) filter (where payment_status = 'failed') as failed_payments
from {{ ref('fct_orders') }}
group by order_date
