with orders as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as lifetime_orders,
        sum(net_revenue) as lifetime_revenue
    from {{ ref('fct_orders') }}
    group by customer_id
)

select
    customers.customer_id,
    customers.first_name,
    customers.last_name,
    customers.email,
    customers.country,
    customers.signup_date,
    orders.first_order_date,
    orders.last_order_date,
    coalesce(orders.lifetime_orders, 0) as lifetime_orders,
    coalesce(orders.lifetime_revenue, 0) as lifetime_revenue
from {{ ref('stg_customers') }} as customers
left join orders on orders.customer_id = customers.customer_id
