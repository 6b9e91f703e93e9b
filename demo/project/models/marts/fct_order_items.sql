select
    items.order_item_id,
    items.order_id,
    items.product_id,
    products.category,
    orders.order_date,
    items.quantity,
    items.unit_price,
    items.line_amount as line_revenue
from {{ ref('stg_order_items') }} as items
join {{ ref('stg_orders') }} as orders on orders.order_id = items.order_id
join {{ ref('stg_products') }} as products on products.product_id = items.product_id
