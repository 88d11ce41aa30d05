{#- Payment type × installment band, over the payments of placed orders. mismatch_rate is the
    share of those orders whose payments differ from the order value by a cent or more. The
    payments are read from fct_order_payments (gold's orders' payments, a table), not from
    the staging view, which ranks every delivery ever loaded. -#}
with

payments as (

    select * from {{ ref('fct_order_payments') }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where {{ is_placed() }}

),

banded as (

    select
        payments.order_id,
        payments.payment_type,
        payments.payment_installments,
        payments.payment_value,
        orders.payment_matches,
        case
            when payments.payment_installments <= 0 then '0'
            when payments.payment_installments = 1 then '1'
            when payments.payment_installments <= 3 then '2-3'
            when payments.payment_installments <= 6 then '4-6'
            when payments.payment_installments <= 10 then '7-10'
            else '11+'
        end as installment_band
    from payments
    inner join orders on payments.order_id = orders.order_id

),

aggregated as (

    select
        payment_type,
        installment_band,
        count(distinct order_id) as orders,
        count(*) as payments,
        sum(payment_value) as payment_value,
        avg(payment_installments) as avg_installments,
        count(distinct case when not payment_matches then order_id end) as mismatched_orders
    from banded
    group by payment_type, installment_band

),

final as (

    select
        cast(payment_type as {{ dbt.type_string() }}) as payment_type,
        cast(installment_band as {{ dbt.type_string() }}) as installment_band,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(payments as {{ dbt.type_bigint() }}) as payments,
        cast(payment_value as {{ type_money() }}) as payment_value,
        cast(avg_installments as {{ type_rate() }}) as avg_installments,
        cast({{ ratio('mismatched_orders', 'orders') }} as {{ type_rate() }}) as mismatch_rate
    from aggregated

)

select * from final
