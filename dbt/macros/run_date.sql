{#- The "as of" instant of a build: `--vars '{run_date: "2018-08-01"}'`, or by default the
    latest purchase in the data, future-dated orders left out (one order dated 2099 must not
    move every run-date mart). Never current_date, so rebuilding old data gives old answers. -#}
{% macro run_date() -%}
    {%- set value = var('run_date', none) -%}
    {%- if value -%}
        cast('{{ value }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        (select max(purchased_at) from {{ ref('stg_olist__orders') }} where {{ not_future_dated() }})
    {%- endif -%}
{%- endmacro %}

{#- Orders that count as placed (GMV, AOV, "orders" in every KPI mart). -#}
{% macro is_placed(status_column='order_status') -%}
    {{ status_column }} not in ('canceled', 'unavailable')
{%- endmacro %}
