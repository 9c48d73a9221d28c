"""The Dask engine: the RFM summary and the scoring as dask.dataframe operations.

1. Each input partition is validated and filtered as the data layer does it; every row gets a
   reason code (0: used) instead of being dropped, so rows and customers can be accounted for.
2. Rows are shuffled by customer, so each customer's rows sit in one partition; each partition
   is summarised by the data layer's own function (same definitions: purchase occasions per
   ``freq`` period, recency/T in ``time_unit``, monetary value = mean of repeat occasions).
3. Fitting runs on the client, on the compressed sufficient statistics: unique
   ``(frequency, recency, T)`` rows with their customer counts (and ``(frequency,
   monetary_value)`` for the spend model), reduced on the cluster and gathered. The result is the
   pandas engine's fit: the models compress their data to the same unique rows anyway.
4. Scores are computed per partition on the workers and streamed to the client partition by
   partition (a few in flight), which appends them to one output file.

The input goes through the pandas engine's functions: the same files are read or refused
(:func:`~clvmodels.batch.inputs.resolve_files`), ids are normalised by
:func:`~clvmodels.batch.inputs.normalise_frame`, dates parsed by the data layer's
:func:`~clvmodels.data.transactions.parse_dates`, and exact duplicate rows found by
:func:`~clvmodels.batch.inputs.duplicate_rows` after the shuffle by customer (every copy of a row
is then in one partition). A precomputed summary (``input.kind: summary``) is shuffled by customer
before it is validated, so a customer listed in two files is refused as the pandas engine does.

Nothing here is imported unless ``engine.type`` is ``dask``.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from ...data.summary import _summarise, period_of
from ...data.transactions import (NEGATIVE_REMEDY, Exclusions, Transactions, check_amount_magnitude, cutoff,
                                  end_point, parse_dates)
from ...data.validation import invalid_rows_error
from ...exceptions import ConfigError, EmptyDataError, InvalidValueError
from ..fitting import fit_models
from ...data.ids import id_strip_counts, padded_numbers
from ..inputs import (ID_CHANGES, Source, check_cross_kind_ids, check_date_zones, check_distinct_files,
                      check_parquet, check_spend_amounts, duplicate_rows, file_entry, id_dtype, needed_columns, normalise_frame,
                      prepare_summary, read_csv, resolve_files, row_keys, sha256_of, spend_models,
                      summary_duplicates_error, warn_duplicates, warn_stripped_ids)
from ..progress import Progress
from .pandas import _output_directory
from ..scoring import score_chunks
from . import Summaries

#: Row reason codes: 0 is a used row; filters first, then the data layer's rules in its order.
REASONS = ("used", "return", "zero_amount", "before_start_date", "duplicate_row", "missing_customer_id",
           "missing_date", "unparsable_date", "date_out_of_range", "missing_amount", "non_numeric_amount",
           "infinite_amount", "negative_amount")
FILTERS = ("return", "zero_amount", "before_start_date", "duplicate_row")
IN_FLIGHT_PER_WORKER = 2


def _rule(reason: str, cfg) -> tuple[str, str, str]:
    """Column, rule and remedy of a data-layer reason (for ``on_invalid: raise``)."""
    date, amount = cfg.datetime, cfg.monetary_value
    return {
        "missing_customer_id": (cfg.customer_id, "customer id must not be missing", "Fill in or drop these rows."),
        "missing_date": (date, "date must not be missing", "Fill in or drop these rows."),
        "unparsable_date": (date, "date must parse with " + (f"format {cfg.datetime_format!r}" if cfg.datetime_format
                                                            else "a recognisable date format"),
                            "Set input.datetime_format to match the data, or fix these values."),
        "date_out_of_range": (date, "date must lie in the supported range", "Fix these values."),
        "missing_amount": (amount, "amount must not be missing (NaN)", "Fill in or drop these rows."),
        "non_numeric_amount": (amount, "amount must be a number", "Clean the column so it parses as numbers."),
        "infinite_amount": (amount, "amount must be finite", "Fix or drop these rows."),
        "negative_amount": (amount, "amount must not be negative", NEGATIVE_REMEDY),
    }[reason]


def prepare_partition(part: pd.DataFrame, cfg) -> pd.DataFrame:
    """Validate and filter one partition: customer, timestamp, amount, a reason code and a row key
    (:func:`~clvmodels.batch.inputs.row_keys`, to find exact duplicates after the shuffle) per row."""
    code = np.zeros(len(part), dtype=np.int8)

    def mark(reason: str, mask) -> None:
        mask = np.asarray(mask, dtype=bool) & (code == 0)
        if not mask.any():
            return
        if cfg.on_invalid == "raise" and reason not in FILTERS:
            column, rule, remedy = _rule(reason, cfg)
            raise invalid_rows_error(column, rule, mask, part, remedy + " Or set input.on_invalid: exclude "
                                     "to leave these rows out (they are counted).")
        code[mask] = REASONS.index(reason)

    f = cfg.filters
    amounts = None
    if cfg.monetary_value:
        raw = part[cfg.monetary_value]
        numeric = pd.to_numeric(raw, errors="coerce")
        amounts = numeric.to_numpy(dtype=float, na_value=np.nan)
        if f.exclude_returns:
            mark("return", amounts < 0)
        if f.exclude_zero_amounts:
            mark("zero_amount", amounts == 0)
    raw_dates = part[cfg.datetime]
    dates, _ = parse_dates(raw_dates, cfg.datetime_format, cfg.datetime)
    if f.start_date is not None:
        mark("before_start_date", (dates < pd.Timestamp(f.start_date)).to_numpy())
    mark("missing_customer_id", part[cfg.customer_id].isna().to_numpy())
    missing_date = raw_dates.isna().to_numpy()
    mark("missing_date", missing_date)
    mark("unparsable_date", dates.isna().to_numpy() & ~missing_date)
    if amounts is not None:
        missing = raw.isna().to_numpy()
        mark("missing_amount", missing)
        mark("non_numeric_amount", np.isnan(amounts) & ~missing)
        mark("infinite_amount", np.isinf(amounts))
        check_amount_magnitude(amounts, code == 0, column=cfg.monetary_value, frame=part)
        mark("negative_amount", amounts < 0)
    changed = part[ID_CHANGES].to_numpy(dtype=np.uint64) if ID_CHANGES in part else np.zeros(len(part), np.uint64)
    out = pd.DataFrame({"customer": part[cfg.customer_id].array,
                        "stamp": dates.to_numpy(dtype="datetime64[ns]"),
                        "reason": code, "key": row_keys(part, cfg), "id_changed": changed}, index=part.index)
    if amounts is not None:
        out["amount"] = amounts
    return out


def mark_duplicates(part: pd.DataFrame, *, drop: bool) -> pd.DataFrame:
    """Flag the exact duplicate rows of a partition holding all rows of its customers; with ``drop``
    they get the reason ``duplicate_row`` unless an earlier filter left them out (the pandas
    engine's order: filters, then duplicates, then the data layer's rules)."""
    dup = duplicate_rows(part["customer"], part["key"].to_numpy())
    part = part.assign(duplicate=dup)
    if drop and dup.any():
        reason = part["reason"].to_numpy().copy()
        earlier = np.isin(reason, [REASONS.index(r) for r in FILTERS[:3]])
        reason[dup & ~earlier] = REASONS.index("duplicate_row")
        part["reason"] = reason
    return part


def _used(part: pd.DataFrame, end: pd.Timestamp) -> np.ndarray:
    return (part["reason"].to_numpy() == 0) & (part["stamp"].to_numpy() <= np.datetime64(end.as_unit("ns")))


def summarise_partition(part: pd.DataFrame, *, end: pd.Timestamp, freq: str, time_unit: str,
                        id_name: str, has_amount: bool) -> pd.DataFrame:
    """The RFM summary of the customers of one partition (all their rows are in it), sorted by id."""
    cut = cutoff(end)
    used = part.loc[_used(part, cut)]
    codes, ids = pd.factorize(used["customer"], sort=True)
    tx = Transactions(codes=codes.astype(np.int64), customer_ids=pd.Index(ids, name=id_name),
                      timestamps=used["stamp"].to_numpy(dtype="datetime64[ns]"),
                      amounts=used["amount"].to_numpy(dtype=float) if has_amount else None,
                      observation_period_end=end, n_rows_read=len(part), exclusions=Exclusions())
    frame = _summarise(tx, end_period=period_of(cut, freq), freq=freq, time_unit=time_unit)
    frame.index.name = id_name
    return frame


def account_partition(part: pd.DataFrame, *, end: pd.Timestamp) -> pd.DataFrame:
    """Rows excluded by reason, customers in the input, and customers without a used row by reason."""
    reason = part["reason"].to_numpy()
    used = _used(part, cutoff(end))
    label = np.asarray(REASONS, dtype=object)[reason]
    label[(reason == 0) & ~used] = "after_observation_end"
    records = [("rows", k, int(v)) for k, v in pd.Series(label[~used]).value_counts().items()]
    known = part["customer"].notna().to_numpy()
    customers = part.loc[known, "customer"]
    records.append(("in_input", "", int(customers.nunique())))
    records.append(("duplicates", "", int(part["duplicate"].sum())))
    stripped, merged = id_strip_counts(part["customer"], part["id_changed"].to_numpy())
    records += [("ids_stripped", "", stripped), ("ids_merged", "", merged)]
    seen = customers[used[known]].unique()
    lost = ~customers.isin(seen).to_numpy()
    if lost.any():
        why = np.where(np.isin(label[known][lost], FILTERS) | (label[known][lost] == "after_observation_end"),
                       label[known][lost], "invalid_rows")
        reasons = pd.DataFrame({"customer": customers.to_numpy()[lost], "reason": why}).drop_duplicates()
        joined = reasons.sort_values("reason").groupby("customer", sort=False)["reason"].agg("+".join)
        records += [("customers", k, int(v)) for k, v in joined.value_counts().items()]
    return pd.DataFrame(records, columns=["what", "key", "count"])


def _summary_duplicates(part: pd.DataFrame, column: str) -> pd.DataFrame:
    """Customers listed more than once in a partition holding all rows of its customers."""
    dup = part[column].duplicated()
    return pd.DataFrame({"count": [int(dup.sum())], "examples": [part.loc[dup, column].head(3).tolist()]})


def _arrow_id_kind(dtype) -> str:
    """:func:`~clvmodels.batch.inputs.id_kind` of a Parquet column's arrow type."""
    import pyarrow as pa

    t = dtype.value_type if pa.types.is_dictionary(dtype) else dtype
    return "number" if pa.types.is_integer(t) or pa.types.is_floating(t) else "text"


def _score_partition(part, customer_model, spend_model, predictions, time_unit, chunk_size):
    part.attrs["time_unit"] = time_unit
    pieces = []
    score_chunks(part, customer_model, spend_model, predictions, pieces.append, chunk_size=chunk_size)
    return pd.concat(pieces, ignore_index=True) if pieces else None


class DaskEngine:
    name = "dask"

    def __init__(self, settings):
        import distributed

        self.settings = settings
        self.cluster = None
        try:
            if settings.scheduler == "local":
                self.cluster = distributed.LocalCluster(n_workers=settings.workers, threads_per_worker=1,
                                                        memory_limit=settings.memory_limit,
                                                        dashboard_address=":0", processes=True,
                                                        silence_logs=logging.CRITICAL)
                self.client = distributed.Client(self.cluster, set_as_default=False)
            else:
                self.client = distributed.Client(settings.scheduler, timeout="10s", set_as_default=False)
        except OSError as err:
            self.close()
            raise ConfigError(f"engine.scheduler {settings.scheduler!r}: cannot reach the Dask scheduler ({err}). "
                              "Check the address (tcp://host:8786) and that the scheduler is running.") from None
        self.n_workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def close(self) -> None:
        client, cluster = getattr(self, "client", None), self.cluster
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    # -- reading --------------------------------------------------------------------------------
    def _read(self, cfg, output_directory=None):
        import dask.dataframe as dd

        if cfg.dataset is not None:
            from ..inputs import read_frame

            frame, source = read_frame(cfg)
            return dd.from_pandas(frame, npartitions=max(1, self.n_workers)), source
        source = Source()
        files = resolve_files(cfg, source, output_directory=output_directory)
        digests = [sha256_of(f) for f, _ in files]
        check_distinct_files(files, digests)
        columns = needed_columns(cfg)
        if files[0][1] == "parquet":
            import pyarrow.parquet as pq

            import pyarrow as pa

            groups: dict[str, list[str]] = {}  # files of one schema are read together
            kinds, zones = {}, {}
            for (file, _), digest in zip(files, digests):
                rows = check_parquet(file, cfg)
                source.files.append(file_entry(file, "parquet", rows, digest))
                schema = pq.ParquetFile(file).schema_arrow
                groups.setdefault(str([schema.field(c).type for c in columns]), []).append(str(file))
                kinds[file] = _arrow_id_kind(schema.field(cfg.customer_id).type)
                if cfg.kind != "summary" and pa.types.is_timestamp(schema.field(cfg.datetime).type):
                    zones[file] = schema.field(cfg.datetime).type.tz or None
            check_date_zones(zones, cfg)
            if len(set(kinds.values())) > 1:
                self._check_cross_kind(kinds, cfg)
            parts = [self._normalised(dd.read_parquet(group, columns=columns), cfg) for group in groups.values()]
            ddf = parts[0] if len(parts) == 1 else dd.concat(parts)
        else:
            for (file, _), digest in zip(files, digests):
                rows = len(read_csv(file, columns, cfg))  # checks the header, counts the rows
                source.files.append(file_entry(file, "csv", rows, digest))
            ddf = self._normalised(dd.read_csv([str(f) for f, _ in files], usecols=columns,
                                               dtype={cfg.customer_id: "str"}), cfg)
        if source.rows == 0:
            raise EmptyDataError(f"input.path {cfg.path!r}: the {len(files)} file(s) hold no rows.")
        return ddf, source

    @staticmethod
    def _check_cross_kind(kinds: dict, cfg) -> None:
        """:func:`~clvmodels.batch.inputs.check_cross_kind_ids` over Parquet files whose id columns
        differ in kind: only then, each file's id column is read here, one file at a time."""
        import pyarrow.parquet as pq

        def ids_of(file) -> pd.Series:
            return pq.read_table(file, columns=[cfg.customer_id]).column(0).to_pandas()

        def padded(file):
            return lambda: padded_numbers(normalise_frame(ids_of(file).to_frame(cfg.customer_id), cfg,
                                                          what=str(file))[cfg.customer_id])

        text_ids = {f: padded(f) for f, kind in kinds.items() if kind == "text"}

        def holds(file):
            return lambda values: values[np.isin(values, normalise_frame(
                ids_of(file).to_frame(cfg.customer_id), cfg, what=str(file))[cfg.customer_id].unique())]

        check_cross_kind_ids(text_ids, {f: holds(f) for f, kind in kinds.items() if kind == "number"}, cfg)

    @staticmethod
    def _normalised(ddf, cfg):
        """``ddf`` with its customer ids normalised partition by partition (as the pandas engine's
        files); a transaction log also gets the column marking ids that lost surrounding spaces."""
        with_changes = cfg.kind != "summary"
        meta = ddf._meta.assign(**{cfg.customer_id: pd.Series([], dtype=id_dtype(cfg))})
        if with_changes:
            meta[ID_CHANGES] = np.array([], dtype=np.uint64)
        return ddf.map_partitions(normalise_frame, cfg, what=f"input.path {cfg.path!r}", with_changes=with_changes,
                                  meta=meta)

    def _partitions(self, rows: int) -> int:
        return self.settings.partitions or max(2 * self.n_workers, math.ceil(rows / 2_000_000))

    def _compute(self, collection):
        return self.client.compute(collection).result()

    # -- summaries ------------------------------------------------------------------------------
    def summaries(self, config, manifest, *, fit: bool, score: bool) -> Summaries:
        inp, s = config.input, config.summary
        with manifest.stage("read"):
            ddf, source = self._read(inp, _output_directory(config))
        out = Summaries(input={"kind": inp.kind, **source.to_dict()})
        with manifest.stage("summary"):
            if inp.kind == "summary":
                return self._summary_input(ddf, config, source, out)
            prepared = ddf.map_partitions(prepare_partition, inp, meta=self._prepared_meta(ddf, inp))
            meta = prepared._meta.assign(duplicate=np.array([], dtype=bool))
            shuffled = self.client.persist(prepared.shuffle(on="customer", npartitions=self._partitions(source.rows))
                                           .map_partitions(mark_duplicates, drop=inp.filters.drop_duplicates,
                                                           meta=meta))
            end = s.observation_period_end
            if end is None:
                last = self._compute(shuffled["stamp"].where(shuffled["reason"] == 0).max())
                if pd.isna(last):
                    raise EmptyDataError("The transactions have no valid rows; check the input section.")
                end = pd.Timestamp(last)
            else:  # a config's ends are dates: each includes its whole day (end_point's rule)
                end = end_point(end, None, name="summary.observation_period_end")[0]
            fit_end = end_point(s.calibration_period_end, None, name="summary.calibration_period_end")[0] \
                if s.calibration_period_end is not None else end
            reference_end = end if score else fit_end
            accounts = self._compute(shuffled.map_partitions(account_partition, end=reference_end,
                                                             meta=pd.DataFrame({"what": pd.Series(dtype=object),
                                                                                "key": pd.Series(dtype=object),
                                                                                "count": pd.Series(dtype=np.int64)})))
            kw = {"freq": s.freq, "time_unit": s.time_unit, "id_name": inp.customer_id,
                  "has_amount": inp.monetary_value is not None}
            if score:
                out.score = self._summarise(shuffled, end, kw)
            if fit:
                out.fit = out.score if fit_end == end and score else self._summarise(shuffled, fit_end, kw)
            del shuffled
            reference = out.score if score else out.fit
            n_summary = int(self._compute(reference.map_partitions(len).sum()))
            if n_summary == 0:
                raise EmptyDataError("The transactions have no valid rows before the observation end "
                                     "(summary.observation_period_end); rows excluded: "
                                     f"{self._counts(accounts, 'rows')}.")
            if fit and s.calibration_period_end is not None and out.fit is not reference \
                    and int(self._compute(out.fit.map_partitions(len).sum())) == 0:
                raise InvalidValueError(f"summary.calibration_period_end {fit_end.date()} is before the first valid "
                                        "transaction: the fit would see no data. Set it to a later date.")
            excluded_rows = self._counts(accounts, "rows")
            n_duplicates = int(accounts.loc[accounts["what"] == "duplicates", "count"].sum())
            warn_duplicates(n_duplicates, inp)
            if inp.dataset is None:
                source.ids_stripped, source.ids_merged = (
                    int(accounts.loc[accounts["what"] == key, "count"].sum()) for key in ("ids_stripped", "ids_merged"))
            warn_stripped_ids(source.ids_stripped, source.ids_merged, inp)
            out.input = {"kind": inp.kind, **source.to_dict()}
            out.rows = {"read": source.rows, "used": source.rows - sum(excluded_rows.values()),
                        "duplicates": n_duplicates, "excluded": excluded_rows}
            out.customers = {"in_input": int(accounts.loc[accounts["what"] == "in_input", "count"].sum()),
                             "in_summary": n_summary, "excluded": self._counts(accounts, "customers")}
            out.info = {"time_unit": s.time_unit, "freq": s.freq, "observation_period_end": end.isoformat(),
                        "n_rows_read": source.rows, "n_rows_used": out.rows["used"], "partitions":
                        reference.npartitions}
            if fit and s.calibration_period_end is not None:
                out.info["fit_observation_period_end"] = fit_end.isoformat()
        return out

    @staticmethod
    def _counts(accounts: pd.DataFrame, what: str) -> dict[str, int]:
        part = accounts[accounts["what"] == what].groupby("key")["count"].sum().sort_index()
        return {str(k): int(v) for k, v in part.items() if v}

    @staticmethod
    def _prepared_meta(ddf, inp) -> pd.DataFrame:
        meta = pd.DataFrame({"customer": ddf._meta[inp.customer_id].iloc[:0].array,
                             "stamp": np.array([], dtype="datetime64[ns]"), "reason": np.array([], dtype=np.int8),
                             "key": np.array([], dtype=np.uint64), "id_changed": np.array([], dtype=np.uint64)})
        if inp.monetary_value:
            meta["amount"] = np.array([], dtype=float)
        return meta

    def _summarise(self, shuffled, end, kw):
        meta = pd.DataFrame({c: np.array([], dtype=float) for c in ("frequency", "recency", "T")
                             + (("monetary_value",) if kw["has_amount"] else ())},
                            index=pd.Index(shuffled._meta["customer"].iloc[:0].array, name=kw["id_name"]))
        return self.client.persist(shuffled.map_partitions(summarise_partition, end=end, meta=meta, **kw))

    def _summary_input(self, ddf, config, source, out):
        inp = config.input
        with_mv = ["monetary_value"] if inp.monetary_value else []
        meta = pd.DataFrame({c: np.array([], dtype=float) for c in ["frequency", "recency", "T", *with_mv]},
                            index=pd.Index(ddf._meta[inp.customer_id].iloc[:0].array, name=inp.customer_id))
        # Every row of a customer in one partition, so that a customer listed in two files is found.
        ddf = self.client.persist(ddf.shuffle(on=inp.customer_id, npartitions=self._partitions(source.rows)))
        dups = self._compute(ddf.map_partitions(_summary_duplicates, inp.customer_id,
                                                meta=pd.DataFrame({"count": np.array([], dtype=np.int64),
                                                                   "examples": pd.Series([], dtype=object)})))
        if int(dups["count"].sum()):
            examples = [e for row in dups["examples"] for e in row][:3]
            raise summary_duplicates_error(int(dups["count"].sum()), examples)
        summary = self.client.persist(ddf.map_partitions(lambda p: prepare_summary(p, inp, config.summary.time_unit)[0],
                                                         meta=meta))
        n = int(self._compute(summary.map_partitions(len).sum()))
        excluded = {"invalid_summary_row": source.rows - n} if n < source.rows else {}
        out.fit = out.score = summary
        out.rows = {"read": source.rows, "used": n, "excluded": excluded}
        out.customers = {"in_input": source.rows, "in_summary": n, "excluded": dict(excluded)}
        out.info = {"time_unit": config.summary.time_unit, "partitions": summary.npartitions}
        return out

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, config, summaries: Summaries) -> dict:
        """Fit on unique rows with customer counts, reduced on the cluster and gathered here."""
        summary = summaries.fit
        if "monetary_value" in summary.columns and spend_models(config):
            repeat = summary["frequency"] > 0
            counts = self.client.compute([repeat.sum(), (repeat & (summary["monetary_value"] > 0)).sum()])
            n_repeat, n_positive = (c.result() for c in counts)
            check_spend_amounts(config, int(n_repeat), int(n_positive))

        def table_for(columns):
            return self._compute(summary.groupby(columns).size()).rename("count").reset_index() \
                .sort_values(columns, ignore_index=True)

        return fit_models(config, table_for, columns=list(summary.columns), time_unit=config.summary.time_unit)

    # -- scoring --------------------------------------------------------------------------------
    def score(self, config, summaries: Summaries, models: dict, write, *, progress=None) -> int:
        from dask import delayed

        from ..fitting import split_models

        customer, spend = split_models(models)
        summary = summaries.score
        sizes = self._compute(summary.map_partitions(len)).tolist()
        parts = summary.to_delayed()
        task = delayed(_score_partition, pure=False)
        args = (customer, spend, config.predictions, config.summary.time_unit, self.settings.chunk_size)
        window = IN_FLIGHT_PER_WORKER * self.n_workers
        futures = [self.client.compute(task(p, *args)) for p in parts[:window]]
        bar = Progress(sum(sizes), enabled=progress)
        done = 0
        try:
            for i in range(len(parts)):
                frame = futures[i].result()
                futures[i] = None
                if i + window < len(parts):
                    futures.append(self.client.compute(task(parts[i + window], *args)))
                if frame is not None and len(frame):
                    write(frame)
                    done += len(frame)
                bar.update(sizes[i])
        finally:
            bar.close()
        return done
