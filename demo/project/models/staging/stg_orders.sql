select
    order_id,
    customer_id,
    order_date,
    status,
    channel
from {{ source('raw', 'raw_orders') }}
