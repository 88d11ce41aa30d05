{#- First-purchase month cohorts: of the customers whose first placed order fell in the
    cohort month, how many placed an order again in month 1..12 after it (month 0 is the
    cohort itself). Only placed orders count, as in fct_customer_ltv: a customer who comes
    back only to cancel, or whose order was unavailable, is not retained. Only months
    already observed (by any order) appear. -#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

placed_orders as (

    select * from orders
    where {{ is_placed() }}

),

cohorts as (

    select
        customer_unique_id,
        cast({{ dbt.date_trunc('month', 'min(purchased_at)') }} as date) as cohort_month
    from placed_orders
    group by customer_unique_id

),

cohort_sizes as (

    select
        cohort_month,
        count(*) as cohort_size
    from cohorts
    group by cohort_month

),

activity as (

    select distinct
        cohorts.cohort_month,
        cohorts.customer_unique_id,
        {{ dbt.datediff(
            'cohorts.cohort_month',
            'cast(' ~ dbt.date_trunc('month', 'placed_orders.purchased_at') ~ ' as date)',
            'month'
        ) }} as months_since
    from placed_orders
    inner join cohorts on placed_orders.customer_unique_id = cohorts.customer_unique_id

),

retained as (

    select
        cohort_month,
        months_since,
        count(*) as retained
    from activity
    where months_since between 0 and 12
    group by cohort_month, months_since

),

month_offsets as (

    {% for n in range(13) %}
        select {{ n }} as months_since
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

observed_months as (

    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        month_offsets.months_since
    from cohort_sizes
    cross join month_offsets
    where {{ dbt.dateadd('month', 'month_offsets.months_since', 'cohort_sizes.cohort_month') }}
        <= (select max(orders.purchased_at) from orders)

),

final as (

    select
        observed_months.cohort_month,
        cast(observed_months.months_since as {{ dbt.type_bigint() }}) as months_since,
        cast(observed_months.cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(coalesce(retained.retained, 0) as {{ dbt.type_bigint() }}) as retained,
        cast(
            {{ ratio('coalesce(retained.retained, 0)', 'observed_months.cohort_size') }}
            as {{ type_rate() }}
        ) as retention_rate
    from observed_months
    left join retained
        on observed_months.cohort_month = retained.cohort_month
        and observed_months.months_since = retained.months_since

)

select * from final
