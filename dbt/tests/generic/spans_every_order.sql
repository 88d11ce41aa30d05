{#- The date dimension (`model`) spans the data or fails loudly: the days of gold's orders
    (fct_orders: purchase and estimated delivery) it lacks, e.g. past the 10,000 days its
    spine can hold. Future-dated orders are not gold's (see stg_olist__orders.is_future_dated). -#}
{% test spans_every_order(model) %}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

dates as (

    select * from {{ model }}

),

order_days as (

    select cast(purchased_at as date) as date_day from orders
    union distinct
    select cast(estimated_delivery_at as date) from orders
    where estimated_delivery_at is not null

),

missing as (

    select order_days.date_day
    from order_days
    left join dates on order_days.date_day = dates.date_day
    where dates.date_day is null

)

select * from missing

{% endtest %}
