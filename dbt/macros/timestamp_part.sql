{#- A part (hour, minute, date, ...) of a timestamp, read in UTC on every warehouse.
    Our timestamps are naive local times: DuckDB keeps them naive, BigQuery stores them as
    TIMESTAMP (UTC), so "in UTC" gives back the digits as delivered on both. BigQuery's
    implicit UTC is spelled out: an explicit time zone is what the BigQuery emulator in CI
    (crucible) accepts for EXTRACT from a TIMESTAMP. -#}
{% macro timestamp_part(part, timestamp_expr) -%}
    {{ return(adapter.dispatch('timestamp_part')(part, timestamp_expr)) }}
{%- endmacro %}

{% macro default__timestamp_part(part, timestamp_expr) -%}
    extract({{ part }} from {{ timestamp_expr }})
{%- endmacro %}

{% macro bigquery__timestamp_part(part, timestamp_expr) -%}
    extract({{ part }} from {{ timestamp_expr }} at time zone 'UTC')
{%- endmacro %}
