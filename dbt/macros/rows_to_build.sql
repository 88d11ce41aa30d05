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

{#- The orders an incremental build of the order facts recomputes, when the run names them:
    `--vars '{touched_orders: [...], touched_customers: [...]}'` (`olist incremental`
    passes the orders with a batch row loaded after gold's watermark and the customer keys
    they were delivered with: warehouse/touched.py, which also says when it passes none).
    None (every order) without the vars, on a full build and on a backfill day. -#}
{% macro touched_keys(name='touched_orders') -%}
    {%- if var('partition_day', none) is not none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(var(name, none)) }}
{%- endmacro %}

{#- A predicate: `column` is one of the touched keys (`true` when every key is built).
    A literal list, not a subquery: DuckDB pushes it below the staging views' window that
    keeps each key's latest delivery, so only the touched keys' deliveries are ranked. The
    keys are plain (letters, digits, `_`, `-`): warehouse/touched.py passes no other. -#}
{% macro of_touched(column, name='touched_orders') -%}
    {%- set keys = touched_keys(name) -%}
    {%- if keys is none -%}
        true
    {%- elif keys | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({% for key in keys %}'{{ key }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- The rows of `cte` an incremental build merges: those the table does not already hold
    exactly (the whole of `cte` on a full build or a backfill day). With touched orders
    the table's side is read for those orders only (`touched_column` holds the key). -#}
{% macro changed_rows(cte, touched_column=none) -%}
    {%- if is_incremental() and var('partition_day', none) is none -%}
    select * from {{ cte }}
    except distinct
    select * from {{ this }}
    {%- if touched_column %}
    where {{ of_touched(touched_column) }}
    {%- endif %}
    {%- else -%}
    select * from {{ cte }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of an incremental model: delete the rows whose key (the `keys` columns) is
    not among `current_keys` (a query of the keys the model builds now, under the same
    column names). A merge only inserts and updates, so without it a row deleted upstream
    would stay in the mart forever. The DELETE runs only when some row vanished: most
    builds need none (BigQuery bills every DML statement, and the BigQuery emulator the
    tests use has no DELETE). `scope`, a predicate on `target`, limits the rows looked at
    (the touched orders of an incremental run, when `current_keys` is limited alike). -#}
{% macro delete_vanished(keys, current_keys, scope='true') -%}
    {%- set vanished -%}
    from {{ this }} as target
    where {{ scope }} and not exists (
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
