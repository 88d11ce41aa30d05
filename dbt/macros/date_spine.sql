{#- Every day from start to end inclusive (both date expressions), without dbt_utils:
    4 digits → up to 10,000 days, enough for any Olist history. -#}
{% macro days_between(start_date, end_date) -%}
    select
        cast({{ dbt.dateadd('day', 'digits.n', start_date) }} as date) as date_day
    from (
        select d1.n + 10 * d2.n + 100 * d3.n + 1000 * d4.n as n
        from {{ digits() }} as d1
        cross join {{ digits() }} as d2
        cross join {{ digits() }} as d3
        cross join {{ digits() }} as d4
    ) as digits
    where digits.n <= {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}

{% macro digits() -%}
    (
        {% for n in range(10) -%}
        select {{ n }} as n{% if not loop.last %} union all {% endif %}
        {%- endfor %}
    )
{%- endmacro %}
