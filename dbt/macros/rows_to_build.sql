{#- Which rows an incremental model (re)builds in this invocation.
    - `--vars '{partition_day: "2017-03-01"}'` (a backfill): the orders purchased that day,
      whether or not the table exists yet, so history can be rebuilt one day at a time;
    - an ordinary incremental build: rows loaded since the newest load in the table;
    - a full build: everything. -#}
{% macro rows_to_build(purchase_column='purchased_at') -%}
    {%- set day = var('partition_day', none) -%}
    {%- if day -%}
        cast({{ purchase_column }} as date) = cast('{{ day }}' as date)
    {%- elif is_incremental() -%}
        {{ loaded_since_last_build() }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- True when this invocation builds a subset of the model's rows (see rows_to_build). -#}
{% macro builds_a_subset() -%}
    {{ return(var('partition_day', none) is not none or is_incremental()) }}
{%- endmacro %}
