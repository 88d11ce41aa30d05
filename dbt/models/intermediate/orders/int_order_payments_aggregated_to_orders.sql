with

order_payments as (

    select * from {{ ref('stg_olist__order_payments') }}

),

ranked as (

    select
        order_id,
        payment_type,
        payment_value,
        payment_installments,
        _loaded_at,
        row_number() over (
            partition by order_id order by payment_value desc, payment_sequential asc
        ) as value_rank
    from order_payments

),

aggregated as (

    select
        order_id,
        sum(payment_value) as payment_value,
        count(*) as payments_count,
        max(payment_installments) as max_installments,
        max(case when value_rank = 1 then payment_type end) as main_payment_type,
        max(case when payment_type = 'voucher' then 1 else 0 end) = 1 as used_voucher,
        max(_loaded_at) as _loaded_at
    from ranked
    group by order_id

)

select * from aggregated
