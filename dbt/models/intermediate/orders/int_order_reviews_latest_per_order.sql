with

order_reviews as (

    select * from {{ ref('stg_olist__order_reviews') }}

),

ranked as (

    select
        order_id,
        review_score,
        comment_message,
        answered_at,
        _loaded_at,
        row_number() over (
            partition by order_id order by answered_at desc, review_id asc
        ) as recency_rank
    from order_reviews

),

latest as (

    select
        order_id,
        review_score,
        comment_message is not null as has_comment,
        answered_at,
        _loaded_at
    from ranked
    where recency_rank = 1

)

select * from latest
