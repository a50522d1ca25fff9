"""Ingest stage: readers (CSV/XLSX/Parquet), parsing (UK dates, vocabularies), pipeline."""

from mashdemand.ingest.parsing import parse_contacts, parse_local_timestamps
from mashdemand.ingest.pipeline import IngestSummary, ingest_contacts
from mashdemand.ingest.readers import IngestError, load_mapping, read_table

__all__ = [
    "IngestError",
    "IngestSummary",
    "ingest_contacts",
    "load_mapping",
    "parse_contacts",
    "parse_local_timestamps",
    "read_table",
]
