select
    payment_id,
    order_id,
    method as payment_method,
    amount,
    status as payment_status,
    paid_at
from {{ source('raw', 'raw_payments') }}
