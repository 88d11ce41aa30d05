{#- The "as of" instant of a build: `--vars '{run_date: "2018-08-01"}'`, or by default the
    latest purchase in gold's orders, which leave future-dated orders out (one order dated
    2099 must not move every run-date mart). Never current_date, so rebuilding old data gives
    old answers. Read from the fct_orders table, not the staging view: the view ranks every
    delivery ever loaded to find each order's latest (0.7 s at scale 10, in each of the three
    marts that use the run date), the table's column is a 2 ms read. -#}
{% macro run_date() -%}
    {%- set value = var('run_date', none) -%}
    {%- if value -%}
        cast('{{ value }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        (select max(purchased_at) from {{ ref('fct_orders') }})
    {%- endif -%}
{%- endmacro %}

{#- Orders that count as placed (GMV, AOV, "orders" in every KPI mart). -#}
{% macro is_placed(status_column='order_status') -%}
    {{ status_column }} not in ('canceled', 'unavailable')
{%- endmacro %}
