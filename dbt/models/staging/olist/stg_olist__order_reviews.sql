with

source as (

    select * from {{ source('olist', 'order_reviews') }}

),

renamed as (

    select
        review_id,
        order_id,
        cast(review_score as {{ dbt.type_int() }}) as review_score,
        {{ empty_to_null('review_comment_title') }} as comment_title,
        {{ empty_to_null('review_comment_message') }} as comment_message,
        cast(review_creation_date as {{ dbt.type_timestamp() }}) as created_at,
        cast(review_answer_timestamp as {{ dbt.type_timestamp() }}) as answered_at,
        _loaded_at
    from source

)

select * from renamed
