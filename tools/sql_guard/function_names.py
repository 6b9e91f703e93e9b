"""Functions known to be pure in each dialect: no side effects, no reads outside the warehouse's tables.

Most common functions already parse into sqlglot's typed expressions and are allowed as such (see
functions.py); these lists add the names sqlglot leaves untyped. A name belongs here only when the database's
own documentation describes it as computing a value from its arguments (randomness and the clock are fine;
sequences, settings, files, locks, signals, network and SQL text are not). Lower case, unqualified.
"""

from __future__ import annotations


def names(text: str) -> frozenset[str]:
    """The whitespace-separated names in `text`, as a set."""
    return frozenset(text.split())


_STANDARD = names("""
    abs ceil ceiling floor round trunc sign sqrt cbrt exp ln log log10 log2 power pow mod div pi degrees
    radians sin cos tan cot asin acos atan atan2 sinh cosh tanh asinh acosh atanh random greatest least
    width_bucket gcd lcm factorial isnan isinf
    length char_length character_length octet_length bit_length lower upper initcap trim btrim ltrim rtrim
    lpad rpad substr substring left right replace translate reverse repeat concat concat_ws position strpos
    split_part ascii chr md5 starts_with ends_with format regexp_replace regexp_like regexp_count
    regexp_substr regexp_instr regexp_extract overlay
    now current_date current_time current_timestamp localtime localtimestamp date_trunc date_part extract
    age to_char to_date to_timestamp to_number make_date make_time make_timestamp make_interval last_day
    count sum avg min max stddev stddev_pop stddev_samp variance var_pop var_samp corr covar_pop covar_samp
    regr_slope regr_intercept regr_r2 regr_count regr_avgx regr_avgy regr_sxx regr_syy regr_sxy
    percentile_cont percentile_disc mode median any_value bool_and bool_or every bit_and bit_or bit_xor
    array_agg string_agg listagg count_if countif
    row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
    coalesce nullif ifnull nvl
    unnest generate_series
    current_user session_user current_schema current_database current_catalog
""")

POSTGRES = _STANDARD | names("""
    clock_timestamp statement_timestamp transaction_timestamp date_bin make_timestamptz justify_days
    justify_hours justify_interval isfinite timezone date_add date_subtract
    scale min_scale trim_scale numeric_inc
    quote_ident quote_literal quote_nullable string_to_array array_to_string string_to_table
    regexp_match regexp_matches regexp_split_to_array regexp_split_to_table normalize encode decode to_hex
    sha224 sha256 sha384 sha512 unistr to_ascii
    json_agg jsonb_agg json_object_agg jsonb_object_agg range_agg range_intersect_agg xmlagg
    to_json to_jsonb row_to_json array_to_json json_build_object jsonb_build_object json_build_array
    jsonb_build_array json_object jsonb_object json_array_length jsonb_array_length json_extract_path
    json_extract_path_text jsonb_extract_path jsonb_extract_path_text json_typeof jsonb_typeof jsonb_pretty
    jsonb_set jsonb_set_lax jsonb_insert jsonb_strip_nulls json_strip_nulls jsonb_path_query
    jsonb_path_query_array jsonb_path_query_first jsonb_path_exists jsonb_path_match json_each
    json_each_text jsonb_each jsonb_each_text json_array_elements json_array_elements_text
    jsonb_array_elements jsonb_array_elements_text json_object_keys jsonb_object_keys json_to_record
    json_to_recordset jsonb_to_record jsonb_to_recordset json_populate_record jsonb_populate_record
    json_populate_recordset jsonb_populate_recordset
    array_length array_lower array_upper array_ndims array_dims array_position array_positions array_append
    array_prepend array_cat array_remove array_replace array_fill cardinality trim_array generate_subscripts
    int4range int8range numrange tsrange tstzrange daterange isempty lower_inc upper_inc lower_inf upper_inf
    to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank ts_rank_cd
    ts_headline num_nonnulls num_nulls gen_random_uuid row
    pg_typeof format_type col_description obj_description pg_size_pretty
""")

# Not list_reduce or array_reduce: their lambda runs on its own output, so `a || a` doubles a value per element
# (28 elements, 67 MB) in our own process, where DuckDB's memory limit does not count it.
DUCKDB = _STANDARD | names("""
    today get_current_timestamp get_current_time epoch epoch_ms epoch_us epoch_ns strftime strptime
    try_strptime date_diff datediff date_sub date_add datepart datetrunc time_bucket dayname monthname
    year month day week weekday weekofyear quarter hour minute second millisecond microsecond dayofweek
    dayofmonth dayofyear isodow isoyear yearweek era century decade to_seconds to_minutes to_hours to_days
    to_weeks to_months to_years to_milliseconds to_microseconds make_timestamptz
    lcase ucase strlen len contains prefix suffix instr printf string_split str_split string_split_regex
    string_to_array regexp_matches regexp_extract_all regexp_split_to_array regexp_full_match
    levenshtein damerau_levenshtein jaro_similarity jaro_winkler_similarity jaccard hamming mismatches
    unicode nfc_normalize strip_accents sha1 sha256 hash hex unhex bin to_base base64 to_base64 from_base64
    array_to_string list_value list_pack list_transform list_apply list_filter list_sort
    list_reverse_sort list_distinct list_unique list_contains list_has list_has_any list_has_all
    list_position list_indexof list_concat list_cat list_append list_prepend list_extract list_element
    list_slice list_aggregate list_aggr list_sum list_min list_max list_avg list_count list_zip list_select
    array_length array_contains array_has array_position array_concat array_cat array_append array_prepend
    array_extract array_slice array_sort array_reverse_sort array_distinct array_unique array_filter
    array_transform array_apply flatten list range
    struct_pack struct_extract struct_insert row map map_keys map_values map_extract map_entries
    element_at cardinality union_value
    json json_extract json_extract_string json_extract_path json_extract_path_text json_value json_type
    json_valid json_array_length json_keys json_object json_array json_structure json_transform
    json_contains json_group_array json_group_object json_group_structure to_json from_json json_each
    json_tree json_merge_patch json_exists json_quote
    histogram quantile quantile_cont quantile_disc approx_count_distinct approx_quantile reservoir_quantile
    arg_max arg_min argmax argmin max_by min_by first last product kurtosis kurtosis_pop skewness entropy
    fsum favg sumkahan kahan_sum group_concat bitstring_agg bool_xor mean
    typeof if iif uuid gen_random_uuid gamma lgamma even nextafter bit_count xor isfinite signbit
    duckdb_tables duckdb_columns duckdb_views duckdb_schemas duckdb_constraints duckdb_indexes duckdb_types
""")

BIGQUERY = _STANDARD | names("""
    format_date format_datetime format_timestamp format_time parse_date parse_datetime parse_timestamp
    parse_time date_diff datetime_diff timestamp_diff time_diff date_add date_sub datetime_add datetime_sub
    timestamp_add timestamp_sub time_add time_sub datetime_trunc timestamp_trunc time_trunc date
    datetime timestamp time current_datetime timestamp_seconds timestamp_millis timestamp_micros
    unix_seconds unix_millis unix_micros unix_date date_from_unix_date generate_date_array
    generate_timestamp_array generate_array
    char_length byte_length split strpos instr regexp_contains regexp_extract_all safe_divide
    ieee_divide safe_add safe_subtract safe_multiply safe_negate to_hex from_hex to_base64 from_base64
    to_base32 from_base32 sha1 sha256 sha512 farm_fingerprint generate_uuid normalize normalize_and_casefold
    array_length array_concat array_reverse array_to_string array_first array_last array_slice
    to_json to_json_string json_extract json_extract_scalar json_extract_array json_extract_string_array
    json_value json_query json_query_array json_value_array parse_json json_type json_keys json_object
    json_array json_set json_remove json_strip_nulls lax_bool lax_int64 lax_float64 lax_string bool int64
    float64 string
    approx_count_distinct approx_quantiles approx_top_count approx_top_sum logical_and logical_or
    max_by min_by array_concat_agg
    if iif range_bucket
    st_geogpoint st_geogfromtext st_astext st_x st_y st_distance st_dwithin st_contains st_within st_intersects
    st_area st_length st_perimeter st_centroid st_buffer
""")

BY_DIALECT = {"postgres": POSTGRES, "duckdb": DUCKDB, "bigquery": BIGQUERY}

# Schemas that hold only the built-in functions, so `pg_catalog.upper(x)` is the real upper().
SYSTEM_FUNCTION_SCHEMAS = {
    "postgres": frozenset({"pg_catalog"}),
    "duckdb": frozenset({"system.main", "main.pg_catalog", "pg_catalog"}),
    "bigquery": frozenset(),
}
