{#- Which rows an incremental model (re)builds in this invocation.
    - `--vars '{partition_day: "2017-03-01"}'` (a backfill): the orders purchased that day,
      whether or not the table exists yet, so history can be rebuilt one day at a time;
    - otherwise every row is computed, and an incremental build merges only the rows that
      differ from the table's (`changed_rows`): new, re-delivered or corrected rows, and
      rows that lost a part (a removed review, item or payment), which a load-time
      watermark never sees. Rows whose key vanished upstream (a corrected export without
      some orders) are deleted by the model's `delete_vanished` post-hook. -#}
{% macro rows_to_build(purchase_column='purchased_at') -%}
    {%- set day = var('partition_day', none) -%}
    {%- if day -%}
        cast({{ purchase_column }} as date) = cast('{{ day }}' as date)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- True when this invocation builds a subset of the model's rows (a backfill day). -#}
{% macro builds_a_subset() -%}
    {{ return(var('partition_day', none) is not none) }}
{%- endmacro %}

{#- The rows of `cte` an incremental build merges: those the table does not already hold
    exactly (the whole of `cte` on a full build or a backfill day). -#}
{% macro changed_rows(cte) -%}
    {%- if is_incremental() and var('partition_day', none) is none -%}
    select * from {{ cte }}
    except distinct
    select * from {{ this }}
    {%- else -%}
    select * from {{ cte }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental model: delete the rows whose key (the `keys` columns) is
    not among `current_keys` (a query of the keys the model builds now, under the same
    column names). A merge only inserts and updates, so without it a row deleted upstream
    would stay in the mart forever. The DELETE runs only when some row vanished: most
    builds need none (BigQuery bills every DML statement, and the BigQuery emulator the
    tests use has no DELETE). -#}
{% macro delete_vanished(keys, current_keys) -%}
    {%- set vanished -%}
    from {{ this }} as target
    where not exists (
        select 1
        from ({{ current_keys }}) as current_keys
        where
            {%- for key in keys %}
            current_keys.{{ key }} = target.{{ key }}{% if not loop.last %} and{% endif %}
            {%- endfor %}
    )
    {%- endset -%}
    {%- set n_vanished = run_query('select count(*) ' ~ vanished).columns[0].values()[0] if execute else 0 -%}
    {%- if n_vanished > 0 -%}
    delete {{ vanished }}
    {%- else -%}
    select 1 as nothing_vanished
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of dim_customers: delete the customers left without any order in `orders`
    (fct_orders), as a full build would. After the merge every other row is exact, so the
    table's orders_count adds up to the rows of `orders` unless such a customer is left;
    that check reads one column of the dimension and the row count of the facts, and the
    anti-join of delete_vanished runs only when it fails (an order vanished). -#}
{% macro delete_customers_without_orders(orders) -%}
    {%- set surplus_query -%}
    select
        coalesce((select sum(orders_count) from {{ this }}), 0)
        - (select count(*) from {{ orders }}) as surplus
    {%- endset -%}
    {%- set surplus = run_query(surplus_query).columns[0].values()[0] if execute else 0 -%}
    {%- if surplus != 0 -%}
    {{ delete_vanished(['customer_unique_id'], 'select customer_unique_id from ' ~ orders) }}
    {%- else -%}
    select 1 as no_customer_vanished
    {%- endif -%}
{%- endmacro %}
