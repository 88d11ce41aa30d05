{#- True when any of `columns` lies after `loaded_at` plus the `future_tolerance_hours`
    var: a clock or export error (an order dated 2099), not a real event. -#}
{% macro dated_after(loaded_at, columns) -%}
    coalesce(
        {%- for column in columns %}
        {{ column }} > cast({{ dbt.dateadd('hour', var('future_tolerance_hours'), loaded_at) }} as {{ dbt.type_timestamp() }}){% if not loop.last %} or{% endif %}
        {%- endfor %},
        false
    )
{%- endmacro %}

{#- The orders gold is built from: not future-dated (a row without the flag, as in a dbt
    unit test's mocked input, counts as dated in the past). -#}
{% macro not_future_dated(flag='is_future_dated') -%}
    not coalesce({{ flag }}, false)
{%- endmacro %}
