"""A brute-force reference of the point-in-time rule (spec feast-offline-stores.md §1.1, §2), so
checks know the right answer without trusting any store:

* candidates: source rows whose join keys equal the entity row's (a null key never matches),
  with T - ttl <= ts <= T, both inclusive, ttl 0 = unbounded;
* winner: greatest ts, then greatest created (null created loses); no candidate -> nulls;
* one output row per entity row, in entity order, duplicates kept;
* pull_latest: rows with start <= ts <= end, the greatest (ts, created) per join-key tuple;
  pull_all: every row in the window.

View definitions come from the registry (a FeatureStore), data straight from the parquet files of
FileSources, or, for PostgreSQLSources, from a plain `SELECT *` over the source's table or query
(configure_postgres first), with `real` columns taken as the float32 they hold.
"""

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pandas as pd
import pyarrow.parquet as pq

from compare import norm, to_ns

NO_CREATED = -(2**63)


@dataclass
class ViewRequest:
    name: str
    prefix: str  # projection.name_to_use(): the alias when set
    keys: List[Tuple[str, str]]  # (join key in the view's namespace, entity-df column)
    features: List[str]
    ttl_ns: int
    source: Any  # the view's batch source (FileSource or PostgreSQLSource)
    timestamp_field: str
    created_field: Optional[str]
    field_mapping: Dict[str, str]


def _request(fv, projection, features: List[str]) -> ViewRequest:
    source = fv.batch_source
    ttl = fv.ttl
    join_key_map = dict(projection.join_key_map or {}) if projection is not None else {}
    keys = [(c.name, join_key_map.get(c.name, c.name)) for c in fv.entity_columns if c.name != "__dummy_id"]
    return ViewRequest(
        name=fv.name,
        prefix=projection.name_to_use() if projection is not None else fv.name,
        keys=keys,
        features=features,
        ttl_ns=int(ttl.total_seconds() * 1e9) if ttl else 0,
        source=source,
        timestamp_field=source.timestamp_field,
        created_field=source.created_timestamp_column or None,
        field_mapping=dict(source.field_mapping or {}),
    )


def requests_from_refs(store, refs: Sequence[str]) -> List[ViewRequest]:
    order: List[str] = []
    feats: Dict[str, List[str]] = {}
    for ref in refs:
        view, feature = ref.split(":", 1)
        if view not in feats:
            order.append(view)
            feats[view] = []
        feats[view].append(feature)
    out = []
    for view in order:
        fv = store.get_feature_view(view)
        out.append(_request(fv, None, feats[view]))
    return out


def requests_from_service(store, service) -> List[ViewRequest]:
    out = []
    for projection in service.feature_view_projections:
        fv = store.get_feature_view(projection.name)
        out.append(_request(fv, projection, [f.name for f in projection.features]))
    return out


_POSTGRES: Dict[str, Any] = {}


def configure_postgres(offline_store_config) -> None:
    """Where PostgreSQLSources are read from: a PostgreSQLConfig (host, port, database, user, ...)."""
    c = offline_store_config
    _POSTGRES.clear()
    _POSTGRES.update(
        host=c.host, port=c.port, dbname=c.database, user=c.user, password=c.password, sslmode=c.sslmode or "disable"
    )
    if getattr(c, "db_schema", None):
        _POSTGRES["options"] = f"-c search_path={c.db_schema}"


def query_records(sql: str) -> List[Dict[str, Any]]:
    """Every row of a query as dicts; `real` (float4) values as the float32 they are."""
    import numpy as np
    import psycopg

    if not _POSTGRES:
        raise RuntimeError("pit_rule.configure_postgres was not called")
    with psycopg.connect(**_POSTGRES) as conn, conn.cursor() as cur:
        cur.execute(sql)
        names = [c.name for c in cur.description]
        float4 = [c.type_code == 700 for c in cur.description]
        out = []
        for row in cur.fetchall():
            out.append(
                {n: (float(np.float32(v)) if f and v is not None else v) for n, f, v in zip(names, float4, row)}
            )
        return out


def read_source(repo: str, source: Any, field_mapping: Optional[Dict[str, str]] = None) -> List[Dict[str, Any]]:
    """The rows of a source: a parquet path (relative to repo), a FileSource, or a PostgreSQLSource."""
    from feast import FileSource

    if isinstance(source, (str, FileSource)):
        path = source if isinstance(source, str) else source.path
        full = path if os.path.isabs(path) else os.path.join(repo, path)
        records = pq.read_table(full).to_pylist()
    else:
        records = query_records(f"SELECT * FROM {source.get_table_query_string_with_alias('rule_src')}")
    if field_mapping:
        records = [{field_mapping.get(k, k): v for k, v in r.items()} for r in records]
    return records


def _rank(row: Dict[str, Any], ts_field: str, created_field: Optional[str]) -> Tuple[int, int]:
    created = row.get(created_field) if created_field else None
    return (to_ns(row[ts_field]), NO_CREATED if created is None else to_ns(created))


def entity_timestamp_column(entity_df: pd.DataFrame) -> str:
    if "event_timestamp" in entity_df.columns:
        return "event_timestamp"
    stamps = [c for c in entity_df.columns if pd.api.types.is_datetime64_any_dtype(entity_df[c])]
    if len(stamps) != 1:
        raise ValueError(f"cannot infer the entity timestamp column among {list(entity_df.columns)}")
    return stamps[0]


def historical(repo: str, entity_df: pd.DataFrame, requests: List[ViewRequest], full_feature_names: bool) -> pd.DataFrame:
    ts_col = entity_timestamp_column(entity_df)
    out = entity_df.reset_index(drop=True).copy()
    entity_rows = out.to_dict("records")
    for req in requests:
        source = read_source(repo, req.source, req.field_mapping)
        by_key: Dict[Tuple, List[Dict[str, Any]]] = {}
        for r in source:
            k = tuple(norm(r[key]) for key, _ in req.keys)
            by_key.setdefault(k, []).append(r)
        columns: Dict[str, List[Any]] = {f: [] for f in req.features}
        for e in entity_rows:
            t = to_ns(e[ts_col])
            k = tuple(norm(e[col]) for _, col in req.keys)
            best = None
            if all(v is not None for v in k):
                lo = t - req.ttl_ns if req.ttl_ns else None
                cands = [
                    r
                    for r in by_key.get(k, [])
                    if to_ns(r[req.timestamp_field]) <= t and (lo is None or to_ns(r[req.timestamp_field]) >= lo)
                ]
                if cands:
                    top = max(_rank(r, req.timestamp_field, req.created_field) for r in cands)
                    winners = [r for r in cands if _rank(r, req.timestamp_field, req.created_field) == top]
                    values = {tuple(norm(w[f]) for f in req.features) for w in winners}
                    if len(values) > 1:
                        raise ValueError(f"test data has a full (ts, created) tie with different values in {req.name} for {k}")
                    best = winners[0]
            for f in req.features:
                columns[f].append(None if best is None else best[f])
        for f in req.features:
            name = f"{req.prefix}__{f}" if full_feature_names else f
            out[name] = pd.Series(columns[f], dtype=object)
    return out


def pull(
    repo: str,
    source: Any,
    join_keys: List[str],
    features: List[str],
    timestamp_field: str,
    created_field: Optional[str],
    start,
    end,
    latest: bool,
) -> pd.DataFrame:
    """pull_latest (latest=True) or pull_all over raw source column names."""
    lo, hi = to_ns(start), to_ns(end)
    in_window = [r for r in read_source(repo, source) if lo <= to_ns(r[timestamp_field]) <= hi]
    if latest:
        best: Dict[Tuple, Dict[str, Any]] = {}
        for r in in_window:
            k = tuple(norm(r[c]) for c in join_keys)
            if k not in best or _rank(r, timestamp_field, created_field) > _rank(best[k], timestamp_field, created_field):
                best[k] = r
        in_window = list(best.values())
    cols = list(join_keys) + list(features) + [timestamp_field] + ([created_field] if created_field else [])
    return pd.DataFrame([{c: r[c] for c in cols} for r in in_window], columns=cols)
