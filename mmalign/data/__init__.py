"""Records, IO, validation, collation and the synthetic world."""

from .reader import BadRecords, read_records
from .schema import PreferenceRecord, RecordProblem, parse_record

__all__ = ["BadRecords", "PreferenceRecord", "RecordProblem", "parse_record", "read_records"]
